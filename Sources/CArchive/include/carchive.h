/* An initramfs read as a stream through libarchive (loaded with dlopen, so
 * that the binary runs where libarchive13 is not installed): one or more
 * segments, each a plain cpio archive or a compressed stream of them, as
 * the kernel unpacks them (gzip inflated by ISA-L and zstd by libzstd, so
 * that any segment may follow them; xz, lz4, bzip2, lzma by libarchive,
 * last only).
 * Nothing is extracted to disk; memory stays bounded whatever the image
 * claims (sizes, paths, entry counts). */
#ifndef CARCHIVE_H
#define CARCHIVE_H

struct cw_initramfs;

struct cw_initramfs_entry {
	char path[4096];            /* as stored, without a leading "./" or "/" */
	int path_truncated;         /* the stored path was longer */
	long long size;             /* what the header claims */
	unsigned int mode;          /* st_mode: type and permissions */
	int segment;                /* which concatenated archive (0: the first) */
};

/* Opens the image open at `fd` (the caller keeps and closes it), to read
 * at most `max_unpacked` bytes of cpio data (zeros between segments
 * included) and `max_entries` entries: past them it is reported, not read
 * further. NULL with a negative errno in *error (-ENOENT: libarchive.so.13
 * is missing; -ENOSYS: a libarchive without what is needed). */
struct cw_initramfs *cw_initramfs_open(int fd, long long max_unpacked, long long max_entries, int *error);
/* 1 and the next entry; 0 at the end of the image; negative on an error
 * (cw_initramfs_error() says what: truncated, corrupt, unknown format, a limit). */
int cw_initramfs_next(struct cw_initramfs *image, struct cw_initramfs_entry *entry);
/* Up to `cap` bytes of the current entry's data; the count, or negative. */
long long cw_initramfs_read(struct cw_initramfs *image, void *buffer, long long cap);
/* The compression of each segment read so far, comma-separated ("none,zstd"). */
const char *cw_initramfs_compressions(const struct cw_initramfs *image);
/* Bytes of cpio data (decompressed) read so far. */
long long cw_initramfs_unpacked(const struct cw_initramfs *image);
const char *cw_initramfs_error(const struct cw_initramfs *image);
void cw_initramfs_close(struct cw_initramfs *image);

#endif
