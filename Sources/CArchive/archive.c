#define _GNU_SOURCE
#include "carchive.h"
#include <archive.h>
#include <archive_entry.h>
#include "cdynamic.h"
#include <isa-l/igzip_lib.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RW_ARCHIVE_FUNCTIONS(X) \
	X(archive_read_new) \
	X(archive_read_free) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_cpio) \
	X(archive_read_open_fd) \
	X(archive_read_open) \
	X(archive_set_error) \
	X(archive_read_next_header) \
	X(archive_read_data) \
	X(archive_read_header_position) \
	X(archive_filter_code) \
	X(archive_filter_name) \
	X(archive_filter_bytes) \
	X(archive_error_string) \
	X(archive_entry_pathname) \
	X(archive_entry_size) \
	X(archive_entry_mode)

#define RW_DECLARE(fn) static __typeof__(&fn) rw_##fn;
RW_ARCHIVE_FUNCTIONS(RW_DECLARE)

static const struct rw_symbol symbols[] = { RW_ARCHIVE_FUNCTIONS(RW_SYMBOL) };

static int load_libarchive(void)
{
	static int state;

	return RW_DLOPEN("libarchive.so.13", symbols, &state);
}

struct cw_initramfs {
	int fd;
	long long file_size;
	struct archive *archive;    /* the current segment, NULL once the image is done */
	long long segment_start;    /* file offset of the current segment */
	int segment;
	int noted;                  /* the current segment's compression is in `compressions` */
	int in_entry;               /* the current entry's data may not be read through */
	long long entries;
	long long unpacked_done;    /* cpio bytes of the segments before this one */
	int pending;                /* an error to report at the next cw_initramfs_next() */
	struct gunzip *gunzip;      /* the current segment is gzip, inflated here (ISA-L) */
	char compressions[256];
	char error[512];
};

static int fail(struct cw_initramfs *image, int code, const char *format, const char *detail)
{
	snprintf(image->error, sizeof(image->error), format, detail ? detail : "");
	return code;
}

/* gzip, by far the slowest compression to read through libarchive's zlib,
 * is inflated with ISA-L (several times faster) and handed to libarchive as
 * plain cpio. Concatenated members are read on, as the kernel does. */
struct gunzip {
	int fd;
	long long offset;           /* the next compressed byte to read */
	int eof;
	int finished;               /* the last member ended */
	struct inflate_state state;
	unsigned char in[256 * 1024];
	unsigned char out[256 * 1024];
};

static int gzip_magic_at(int fd, long long offset)
{
	unsigned char magic[2];

	return pread(fd, magic, sizeof(magic), offset) == (ssize_t)sizeof(magic) && magic[0] == 0x1f && magic[1] == 0x8b;
}

static int gunzip_fill(struct gunzip *z)
{
	ssize_t n;

	if (z->state.avail_in || z->eof)
		return 0;
	n = pread(z->fd, z->in, sizeof(z->in), z->offset);
	if (n < 0)
		return -errno;
	z->eof = n == 0;
	z->offset += n;
	z->state.next_in = z->in;
	z->state.avail_in = (uint32_t)n;
	return 0;
}

/* After a member: another one follows (gzip magic), or the image ends. */
static int gunzip_next_member(struct gunzip *z)
{
	if (gunzip_fill(z) < 0 || z->state.avail_in < 2 || z->state.next_in[0] != 0x1f || z->state.next_in[1] != 0x8b)
		return 0;
	uint8_t *next = z->state.next_in;
	uint32_t avail = z->state.avail_in;

	isal_inflate_reset(&z->state);
	z->state.crc_flag = ISAL_GZIP;
	z->state.next_in = next;
	z->state.avail_in = avail;
	return 1;
}

static la_ssize_t gunzip_read(struct archive *a, void *client, const void **buffer)
{
	struct gunzip *z = client;

	while (!z->finished) {
		int rc = gunzip_fill(z);

		if (rc < 0) {
			rw_archive_set_error(a, -rc, "read: %s", strerror(-rc));
			return -1;
		}
		z->state.next_out = z->out;
		z->state.avail_out = sizeof(z->out);
		rc = isal_inflate(&z->state);
		if (rc < 0) {
			rw_archive_set_error(a, EINVAL, "gzip data is corrupt (ISA-L inflate error %d)", rc);
			return -1;
		}
		size_t produced = sizeof(z->out) - z->state.avail_out;

		if (z->state.block_state == ISAL_BLOCK_FINISH && !gunzip_next_member(z))
			z->finished = 1;
		if (produced) {
			*buffer = z->out;
			return (la_ssize_t)produced;
		}
		if (!z->finished && z->eof && !z->state.avail_in) {
			rw_archive_set_error(a, EINVAL, "truncated gzip data");
			return -1;
		}
	}
	return 0;
}

static struct gunzip *gunzip_new(int fd, long long offset)
{
	struct gunzip *z = malloc(sizeof(*z));

	if (!z)
		return NULL;
	memset(z, 0, offsetof(struct gunzip, in));
	z->fd = fd;
	z->offset = offset;
	isal_inflate_init(&z->state);
	z->state.crc_flag = ISAL_GZIP;
	return z;
}

static void end_segment(struct cw_initramfs *image)
{
	if (!image->archive)
		return;
	image->unpacked_done += rw_archive_filter_bytes(image->archive, 0);
	rw_archive_read_free(image->archive);
	image->archive = NULL;
	free(image->gunzip);
	image->gunzip = NULL;
}

static int start_segment(struct cw_initramfs *image, long long offset)
{
	struct archive *a = rw_archive_read_new();
	int rc;

	if (!a)
		return fail(image, -ENOMEM, "libarchive: out of memory%s", NULL);
	rw_archive_read_support_filter_all(a);
	rw_archive_read_support_format_cpio(a);
	if (gzip_magic_at(image->fd, offset)) {
		image->gunzip = gunzip_new(image->fd, offset);
		if (!image->gunzip) {
			rw_archive_read_free(a);
			return fail(image, -ENOMEM, "out of memory%s", NULL);
		}
		rc = rw_archive_read_open(a, image->gunzip, NULL, gunzip_read, NULL);
	} else if (lseek(image->fd, offset, SEEK_SET) < 0) {
		rw_archive_read_free(a);
		return fail(image, -errno, "seek: %s", strerror(errno));
	} else {
		rc = rw_archive_read_open_fd(a, image->fd, 64 * 1024);
	}
	if (rc != ARCHIVE_OK) {
		fail(image, -EINVAL, "%s", rw_archive_error_string(a));
		rw_archive_read_free(a);
		free(image->gunzip);
		image->gunzip = NULL;
		return -EINVAL;
	}
	image->archive = a;
	image->segment_start = offset;
	image->noted = 0;
	return 0;
}

struct cw_initramfs *cw_initramfs_open(const char *path, int *error)
{
	struct cw_initramfs *image;
	struct stat st;
	int rc = load_libarchive();

	if (rc) {
		*error = rc;
		return NULL;
	}
	image = calloc(1, sizeof(*image));
	if (!image) {
		*error = -ENOMEM;
		return NULL;
	}
	image->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (image->fd < 0 || fstat(image->fd, &st) < 0) {
		*error = -errno;
		if (image->fd >= 0)
			close(image->fd);
		free(image);
		return NULL;
	}
	image->file_size = st.st_size;
	/* An image libarchive cannot even start on is still opened: the first
	 * cw_initramfs_next() reports why (truncated, unknown format). */
	image->pending = start_segment(image, 0);
	*error = 0;
	return image;
}

/* Reads the rest of the current entry's data (what libarchive's own skip
 * would do) counting it against the unpacked limit. */
static int finish_entry(struct cw_initramfs *image)
{
	static char scratch[256 * 1024];
	la_ssize_t n;

	if (!image->in_entry)
		return 0;
	image->in_entry = 0;
	while ((n = rw_archive_read_data(image->archive, scratch, sizeof(scratch))) > 0) {
		if (cw_initramfs_unpacked(image) > CW_INITRAMFS_MAX_UNPACKED)
			return fail(image, -EFBIG, "more than 8 GiB of cpio data%s: a bomb, not an initramfs", NULL);
	}
	if (n < 0)
		return fail(image, -EIO, "%s", rw_archive_error_string(image->archive));
	return 0;
}

/* After an uncompressed segment's trailer: the next segment starts after
 * the trailer (110-byte newc header, "TRAILER!!!" and its NUL, 4-aligned)
 * and the zeros that pad it. Returns its offset, or the file size. */
static long long next_segment_offset(struct cw_initramfs *image, int *error)
{
	long long trailer = image->segment_start + rw_archive_read_header_position(image->archive);
	char header[124];
	char block[4096];
	long long at;

	*error = 0;
	if (pread(image->fd, header, sizeof(header), trailer) != (ssize_t)sizeof(header) ||
	    memcmp(header, "0707", 4) != 0 || memcmp(header + 110, "TRAILER!!!", 10) != 0) {
		*error = fail(image, -EINVAL, "an uncompressed cpio segment does not end with a trailer%s", NULL);
		return -1;
	}
	for (at = trailer + 124; at < image->file_size;) {
		ssize_t n = pread(image->fd, block, sizeof(block), at);

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (block[i] != 0)
				return at + i;
		}
		at += n;
	}
	return image->file_size;
}

static void note_compression(struct cw_initramfs *image)
{
	const char *name = image->gunzip ? "gzip" : rw_archive_filter_name(image->archive, 0);
	size_t used = strlen(image->compressions);

	snprintf(image->compressions + used, sizeof(image->compressions) - used, "%s%s", used ? "," : "",
		 name && strcmp(name, "none") != 0 ? name : "none");
}

int cw_initramfs_next(struct cw_initramfs *image, struct cw_initramfs_entry *entry)
{
	struct archive_entry *e;
	int rc;

	if (image->pending)
		return image->pending;
	while (image->archive) {
		if ((rc = finish_entry(image)) < 0)
			return rc;
		rc = rw_archive_read_next_header(image->archive, &e);
		if (!image->noted) {  /* the filter is known once the first header was read */
			note_compression(image);
			image->noted = 1;
		}
		if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) {
			const char *name = rw_archive_entry_pathname(e);

			if (++image->entries > CW_INITRAMFS_MAX_ENTRIES)
				return fail(image, -EFBIG, "more than 2,000,000 entries%s: a bomb, not an initramfs", NULL);
			while (name && (name[0] == '.' && name[1] == '/'))
				name += 2;
			while (name && name[0] == '/')
				name++;
			name = name ? name : "";
			entry->path_truncated = strlen(name) >= sizeof(entry->path);
			snprintf(entry->path, sizeof(entry->path), "%s", name);
			entry->size = rw_archive_entry_size(e);
			entry->mode = rw_archive_entry_mode(e);
			entry->segment = image->segment;
			image->in_entry = 1;
			return 1;
		}
		if (rc != ARCHIVE_EOF)
			return fail(image, -EIO, "%s", rw_archive_error_string(image->archive));
		if (image->gunzip || rw_archive_filter_code(image->archive, 0) != ARCHIVE_FILTER_NONE) {
			end_segment(image);  /* a compressed segment ends the image */
			break;
		}
		long long next = next_segment_offset(image, &rc);

		if (rc < 0)
			return rc;
		end_segment(image);
		if (next >= image->file_size)
			break;
		image->segment++;
		if ((rc = start_segment(image, next)) < 0)
			return rc;
	}
	return 0;
}

long long cw_initramfs_read(struct cw_initramfs *image, void *buffer, long long cap)
{
	la_ssize_t n;

	if (!image->archive || !image->in_entry)
		return 0;
	n = rw_archive_read_data(image->archive, buffer, (size_t)cap);
	if (n < 0)
		return fail(image, -EIO, "%s", rw_archive_error_string(image->archive));
	return n;
}

const char *cw_initramfs_compressions(const struct cw_initramfs *image)
{
	return image->compressions;
}

long long cw_initramfs_unpacked(const struct cw_initramfs *image)
{
	return image->unpacked_done + (image->archive ? rw_archive_filter_bytes(image->archive, 0) : 0);
}

const char *cw_initramfs_error(const struct cw_initramfs *image)
{
	return image->error;
}

void cw_initramfs_close(struct cw_initramfs *image)
{
	if (!image)
		return;
	end_segment(image);
	close(image->fd);
	free(image);
}
