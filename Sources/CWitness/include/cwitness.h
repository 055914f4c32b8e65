#ifndef CWITNESS_H
#define CWITNESS_H
#include <stddef.h>
#include "witness.h"

/* syscall(2) is variadic, which Swift cannot call. Returns 0 or -errno. */
long cw_reboot(unsigned int magic1, unsigned int magic2, unsigned int cmd, const char *arg);

/* signalfd(2) and its siginfo are not imported by Swift's Glibc module.
 * Blocks `signals` for normal delivery; returns the fd or -errno. */
int cw_signalfd(const int *signals, int count);
/* One pending signal number from a signalfd, or 0 if none. */
int cw_read_signal(int fd);

/* "EINVAL" for EINVAL (what strerrorname_np gives from glibc 2.32 on); NULL if unknown. */
const char *cw_errno_name(int code);
/* memmem(3), a GNU extension Swift's Glibc module does not export. */
void *cw_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);
/* Points getutxent() at a wtmp file (0 on success). */
int cw_utmpx_file(const char *path);

/* ioctl(2) is variadic. One extent of a file (FS_IOC_FIEMAP): bytes
 * [logical, logical + length) of the file live at `physical` on its device. */
struct cw_extent {
	unsigned long long logical;
	unsigned long long physical;
	unsigned long long length;
	unsigned int flags;         /* FIEMAP_EXTENT_* */
};
/* The extents covering [start, start + length), flushed first
 * (FIEMAP_FLAG_SYNC). Returns how many were filled (at most `max`), or -errno. */
int cw_fiemap(int fd, unsigned long long start, unsigned long long length, struct cw_extent *out, int max);
/* FIEMAP_EXTENT_* flags that make an extent unsafe to write through the
 * block device (not yet written, not aligned, shared, encoded, inline...). */
unsigned int cw_fiemap_unsafe_flags(void);
/* open(2) of a block device for O_DIRECT|O_DSYNC writes (O_DIRECT needs
 * _GNU_SOURCE, which Swift's Glibc does not define). The fd, or -errno. */
int cw_open_block_device(const char *path);
/* fstatfs(2)'s f_type (sys/vfs.h is not in Swift's Glibc module), or -errno. */
long long cw_fs_type(int fd);
/* A block device's logical block size (BLKSSZGET), or -errno. */
int cw_block_logical_size(int fd);

/* One IPMI request to the BMC on an open /dev/ipmiN (the system interface,
 * LUN 0) and its answer: reply[0] is the completion code. Waits at most
 * `timeout_ms` in all; other messages on the device (events, late answers
 * to earlier requests) are skipped. Returns the answer's length (cut to
 * `capacity`), or -errno (-ETIMEDOUT: the BMC did not answer in time). */
int cw_ipmi_request(int fd, unsigned char netfn, unsigned char cmd, const unsigned char *data, unsigned short length,
		    long msgid, unsigned char *reply, unsigned short capacity, int timeout_ms);

/* malloc_trim(0): give the kernel back what a finished background task
 * freed (glibc keeps freed arenas otherwise). malloc.h is not in Swift's Glibc. */
void cw_release_free_memory(void);

/* Drops the read-only segments (code, constants, the embedded BPF objects)
 * of the executable and of its libraries from this process's memory
 * (MADV_DONTNEED; the executable's own pages also leave the page cache,
 * MADV_PAGEOUT, 5.4+): once armed, the pages only starting used are gone and
 * the caller touches its record path again. File pages only: never a PF_W
 * segment, never an object with text relocations, never a page pagemap shows
 * as a private copy (a debugger's or a uprobe's patch); without
 * /proc/self/pagemap nothing is dropped. Returns the segments released. */
int cw_page_out_code(void);

/* open(2) of `path` as if `rootfd` were the root directory (chroot-like:
 * absolute symlinks and ".." stay inside it, magic links refused):
 * openat2(RESOLVE_IN_ROOT) where the kernel has it (5.6+), the same
 * resolution by hand where it does not. The fd, or -errno. */
int cw_open_in_root(int rootfd, const char *path, int flags);
/* O_PATH (Swift's Glibc does not define _GNU_SOURCE): an fd that only names a file. */
#define CW_O_PATH 010000000
/* The by-hand resolution alone (tests compare it with openat2's). */
int cw_open_in_root_by_hand(int rootfd, const char *path, int flags);

#endif
