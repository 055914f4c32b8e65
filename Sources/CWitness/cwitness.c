#define _GNU_SOURCE
#include "cwitness.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <stdlib.h>
#include <linux/fs.h>
#include <linux/fiemap.h>
#include <pthread.h>

long cw_reboot(unsigned int magic1, unsigned int magic2, unsigned int cmd, const char *arg)
{
	long rc = syscall(SYS_reboot, magic1, magic2, cmd, arg);
	return rc < 0 ? -errno : rc;
}

#include <signal.h>
#include <sys/signalfd.h>

int cw_signalfd(const int *signals, int count)
{
	sigset_t set;
	int rc;

	sigemptyset(&set);
	for (int i = 0; i < count; i++)
		sigaddset(&set, signals[i]);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc != 0)
		return -rc;
	rc = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return rc < 0 ? -errno : rc;
}

int cw_read_signal(int fd)
{
	struct signalfd_siginfo info;
	ssize_t n;

	do {
		n = read(fd, &info, sizeof(info));
	} while (n < 0 && errno == EINTR);
	return n == sizeof(info) ? (int)info.ssi_signo : 0;
}

/* glibc's strerrorname_np exists only from 2.32: the binary must start on
 * 2.31 (Debian 11, Ubuntu 20.04), so the names are listed here, generated
 * from the kernel's errno headers with the X-macro below. */
#define CW_ERRNO_NAMES(X) \
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) \
	X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(ENOTBLK) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV) \
	X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(ETXTBSY) X(EFBIG) X(ENOSPC) \
	X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOLCK) \
	X(ENOSYS) X(ENOTEMPTY) X(ELOOP) X(ENOMSG) X(EIDRM) X(ENOSTR) X(ENODATA) X(ETIME) X(ENOSR) \
	X(ENOLINK) X(EPROTO) X(EBADMSG) X(EOVERFLOW) X(EILSEQ) X(EUSERS) X(ENOTSOCK) X(EDESTADDRREQ) \
	X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT) \
	X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ECONNABORTED) X(ECONNRESET) \
	X(ENOBUFS) X(EISCONN) X(ENOTCONN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTUNREACH) X(EALREADY) \
	X(EINPROGRESS) X(ESTALE) X(EDQUOT) X(ECANCELED) X(EOWNERDEAD) X(ENOTRECOVERABLE) X(ERFKILL) \
	X(EHWPOISON) X(ENOKEY) X(EKEYEXPIRED) X(EKEYREVOKED) X(EKEYREJECTED) X(ENOMEDIUM) X(EMEDIUMTYPE) \
	X(EREMOTEIO) X(EUCLEAN) X(ENOTUNIQ) X(EBADFD) X(ECOMM) X(ENONET) X(EBADE) X(EBADR) X(ELIBBAD)

const char *cw_errno_name(int code)
{
	switch (code) {
#define CW_ERRNO_CASE(name) case name: return #name;
	CW_ERRNO_NAMES(CW_ERRNO_CASE)
	default: return NULL;
	}
}

void *cw_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length)
{
	return memmem(haystack, haystack_length, needle, needle_length);
}

#include <utmpx.h>

int cw_utmpx_file(const char *path)
{
	/* utmpxname() is a GNU extension Swift's Glibc module does not export. */
	return utmpxname(path) == 0 ? 0 : -1;
}

int cw_fiemap(int fd, unsigned long long start, unsigned long long length, struct cw_extent *out, int max)
{
	size_t size = sizeof(struct fiemap) + (size_t)max * sizeof(struct fiemap_extent);
	struct fiemap *map = calloc(1, size);
	int count;

	if (!map)
		return -ENOMEM;
	map->fm_start = start;
	map->fm_length = length;
	map->fm_flags = FIEMAP_FLAG_SYNC;
	map->fm_extent_count = (unsigned int)max;
	if (ioctl(fd, FS_IOC_FIEMAP, map) < 0) {
		int error = errno;

		free(map);
		return -error;
	}
	count = (int)map->fm_mapped_extents;
	for (int i = 0; i < count && i < max; i++) {
		out[i].logical = map->fm_extents[i].fe_logical;
		out[i].physical = map->fm_extents[i].fe_physical;
		out[i].length = map->fm_extents[i].fe_length;
		out[i].flags = map->fm_extents[i].fe_flags;
	}
	free(map);
	return count;
}

unsigned int cw_fiemap_unsafe_flags(void)
{
	return FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
	       FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE |
	       FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_SHARED;
}

int cw_block_logical_size(int fd)
{
	int size = 0;

	if (ioctl(fd, BLKSSZGET, &size) < 0)
		return -errno;
	return size;
}

int cw_open_block_device(const char *path)
{
	int fd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

long long cw_fs_type(int fd)
{
	struct statfs info;

	if (fstatfs(fd, &info) < 0)
		return -errno;
	return (long long)(unsigned long)info.f_type;
}

#include <malloc.h>

void cw_release_free_memory(void)
{
	malloc_trim(0);
}

#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* Whether the object's text was relocated in place (DT_TEXTREL): then its
 * read-only segments hold private copies that only its relocation made. */
static int has_text_relocations(const struct dl_phdr_info *info)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr); d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_TEXTREL || (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
				return 1;
	}
	return 0;
}

/* Drops [start, end) from this process's page tables, run by run, passing
 * over every page /proc/self/pagemap says holds a private copy (present and
 * not a file page, or swapped): relocated, or patched by a debugger or a
 * uprobe, it is data the file cannot give back. A page pagemap cannot
 * vouch for is kept. Returns whether anything was dropped. */
static int drop_file_pages(unsigned long start, unsigned long end, unsigned long page, int pagemap)
{
	enum { BATCH = 512 };
	uint64_t entries[BATCH];
	unsigned long addr = start, run = 0; /* run: where the pages to drop began; 0: none */
	int dropped = 0;

	while (addr < end) {
		size_t count = (end - addr) / page < BATCH ? (end - addr) / page : BATCH;

		if (pread(pagemap, entries, count * sizeof(uint64_t), (off_t)(addr / page * sizeof(uint64_t))) !=
		    (ssize_t)(count * sizeof(uint64_t)))
			break;
		for (size_t i = 0; i < count; i++, addr += page) {
			uint64_t e = entries[i];
			int private_copy = ((e >> 63) & 1 && !((e >> 61) & 1)) || ((e >> 62) & 1);

			if (private_copy && run) {
				dropped |= madvise((void *)run, addr - run, MADV_DONTNEED) == 0;
				run = 0;
			} else if (!private_copy && !run) {
				run = addr;
			}
		}
	}
	if (run)
		dropped |= madvise((void *)run, addr - run, MADV_DONTNEED) == 0;
	return dropped;
}

struct release { int pagemap; int done; };

/* The read-only PT_LOAD segments (never PF_W: RELRO and the GOT are in the
 * writable one) of the executable and of every library loaded from a file. */
static int release_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	struct release *release = data;
	int executable = !info->dlpi_name || info->dlpi_name[0] == '\0';

	(void)size;
	if (!executable && info->dlpi_name[0] != '/')
		return 0; /* the vDSO */
	if (has_text_relocations(info))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		unsigned long start, end;

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
		/* Our own file's pages leave the page cache where no one else maps
		 * them (MADV_PAGEOUT never discards: a private page is swapped or kept). */
		if (executable)
			madvise((void *)start, end - start, MADV_PAGEOUT);
		/* Every file page leaves this process's page tables (the page cache
		 * keeps what others use): the next touch maps it again, from the file. */
		release->done += drop_file_pages(start, end, page, release->pagemap);
	}
	return 0;
}

int cw_page_out_code(void)
{
	struct release release = { .pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), .done = 0 };

	if (release.pagemap < 0)
		return 0;
	dl_iterate_phdr(release_segments, &release);
	close(release.pagemap);
	return release.done;
}

#include <linux/openat2.h>
#include <limits.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Resolution by hand, for kernels without openat2 (before 5.6): one
 * component at a time from `rootfd`, no symlink followed by the kernel;
 * a symlink's target is read and resolved within the root (an absolute one
 * from the root, ".." never above it), 40 at most, like the kernel's. */
static int open_in_root_by_hand(int rootfd, const char *path, int flags)
{
	char rest[PATH_MAX * 2];
	int dirs[256];
	int depth = 0, links = 0;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(rest, sizeof(rest), "%s", path);
	dirs[0] = dup(rootfd);
	if (dirs[0] < 0)
		return -errno;
	for (;;) {
		char *p = rest, *name;
		while (*p == '/')
			p++;
		if (*p == 0) {
			/* The path names the root itself (or a directory reached). */
			int fd = openat(dirs[depth], ".", flags | O_CLOEXEC);
			int code = fd < 0 ? -errno : fd;
			for (int i = 0; i <= depth; i++)
				close(dirs[i]);
			return code;
		}
		name = p;
		while (*p && *p != '/')
			p++;
		int last = *p == 0;
		char component[NAME_MAX + 1];
		size_t length = (size_t)(p - name);
		if (length > NAME_MAX) {
			for (int i = 0; i <= depth; i++)
				close(dirs[i]);
			return -ENAMETOOLONG;
		}
		memcpy(component, name, length);
		component[length] = 0;
		memmove(rest, p, strlen(p) + 1);
		if (strcmp(component, ".") == 0)
			continue;
		if (strcmp(component, "..") == 0) {
			if (depth > 0)
				close(dirs[depth--]);
			continue;
		}
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirs[depth], component, target, sizeof(target) - 1);
		if (n >= 0) {
			if (++links > 40 || (size_t)n + strlen(rest) + 2 >= sizeof(rest)) {
				for (int i = 0; i <= depth; i++)
					close(dirs[i]);
				return -ELOOP;
			}
			target[n] = 0;
			/* The target replaces the component; an absolute one starts again at the root. */
			char joined[PATH_MAX * 2];
			snprintf(joined, sizeof(joined), "%s%s%s", target, *rest ? "/" : "", rest);
			snprintf(rest, sizeof(rest), "%s", joined);
			if (target[0] == '/') {
				while (depth > 0)
					close(dirs[depth--]);
			}
			continue;
		}
		if (last) {
			int fd = openat(dirs[depth], component, flags | O_CLOEXEC | O_NOFOLLOW);
			int code = fd < 0 ? -errno : fd;
			for (int i = 0; i <= depth; i++)
				close(dirs[i]);
			return code;
		}
		if (depth + 1 >= (int)(sizeof(dirs) / sizeof(dirs[0]))) {
			for (int i = 0; i <= depth; i++)
				close(dirs[i]);
			return -ELOOP;
		}
		int next = openat(dirs[depth], component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int code = -errno;
			for (int i = 0; i <= depth; i++)
				close(dirs[i]);
			return code;
		}
		dirs[++depth] = next;
	}
}

int cw_open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != EPERM)  /* EPERM: a seccomp filter that does not know openat2 */
		return -errno;
	return open_in_root_by_hand(rootfd, path, flags);
}

int cw_open_in_root_by_hand(int rootfd, const char *path, int flags)
{
	return open_in_root_by_hand(rootfd, path, flags);
}
