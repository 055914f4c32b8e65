#define _GNU_SOURCE
#include "carchive.h"
#include <archive.h>
#include <archive_entry.h>
#include "cdynamic.h"
#include "segment_stream.h"
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * An initramfs as the kernel unpacks it (init/initramfs.c): segments one
 * after the other in the file, each either a plain cpio archive or a
 * compressed stream holding one or more cpio archives, zeros between them.
 * gzip (ISA-L) and zstd (libzstd) streams are inflated here, so that where
 * each one ends in the file is known exactly and the next segment is found
 * whatever it is; xz, lz4, bzip2 and lzma go through libarchive's own
 * filters, which cannot say where their stream ends: such a segment must be
 * the last. The cpio archives themselves are read by libarchive, strictly:
 * a damaged header ends the read, as it ends the kernel's.
 */

#define RW_ARCHIVE_FUNCTIONS(X) \
	X(archive_read_new) \
	X(archive_read_free) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_cpio) \
	X(archive_read_open) \
	X(archive_read_open_fd) \
	X(archive_set_error) \
	X(archive_read_next_header) \
	X(archive_read_data) \
	X(archive_read_header_position) \
	X(archive_filter_name) \
	X(archive_filter_bytes) \
	X(archive_error_string) \
	X(archive_entry_pathname) \
	X(archive_entry_size) \
	X(archive_entry_mode)

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
	long long max_unpacked;
	long long max_entries;
	struct stream *stream;      /* the current segment's (NULL for SEGMENT_OTHER) */
	struct archive *archive;    /* the current cpio archive, NULL once the image is done */
	long long segment_start;    /* file offset of the current segment */
	int segment;
	int in_entry;
	long long entries;
	long long unpacked;         /* cpio bytes delivered to libarchive (and scanned zeros) */
	long long archive_base;     /* stream position where the current cpio archive starts */
	long long delivered;        /* stream position after the last byte given to libarchive */
	/* What was last given to libarchive, kept to start the next archive of
	 * the same stream from (libarchive reads ahead of the trailer). */
	unsigned char *history;
	long long history_start;    /* stream position of history[0] */
	size_t history_len;
	size_t replay;              /* bytes of history still to give the next archive */
	int pending;                /* an error for the next cw_initramfs_next() */
	char compressions[256];
	char error[512];
};

static int fail(struct cw_initramfs *image, int code, const char *format, const char *detail)
{
	snprintf(image->error, sizeof(image->error), format, detail && *detail ? detail : "no reason given");
	return code;
}

/* Appends the stream's last chunk to the history (the last two chunks:
 * libarchive reads ahead of an archive's trailer by one at most) and
 * returns where it now is. */
static const void *keep(struct cw_initramfs *image, size_t n)
{
	if (image->history_len + n > 2 * CHUNK) {
		size_t drop = image->history_len + n - 2 * CHUNK;
		memmove(image->history, image->history + drop, image->history_len - drop);
		image->history_len -= drop;
		image->history_start += (long long)drop;
	}
	memcpy(image->history + image->history_len, image->stream->out, n);
	image->history_len += n;
	image->delivered += (long long)n;
	return image->history + image->history_len - n;
}

/* libarchive's client: first what is left of the history (the next archive
 * of a stream starts inside it), then the stream. */
static la_ssize_t client_read(struct archive *a, void *client, const void **buffer)
{
	struct cw_initramfs *image = client;
	const char *why = NULL;
	long long n;

	if (image->replay) {
		size_t start = image->history_len - image->replay;
		*buffer = image->history + start;
		n = (long long)image->replay;
		image->replay = 0;
		return (la_ssize_t)n;
	}
	n = segment_stream_read(image->stream, &why);
	if (n < 0) {
		rw_archive_set_error(a, (int)-n, "%s", why ? why : "read error");
		return -1;
	}
	image->unpacked += n;
	if (image->unpacked > image->max_unpacked) {
		rw_archive_set_error(a, EFBIG, "more cpio data than preflight's budget: a bomb, not an initramfs");
		return -1;
	}
	*buffer = keep(image, (size_t)n);
	return (la_ssize_t)n;
}

static int open_archive(struct cw_initramfs *image)
{
	struct archive *a = rw_archive_read_new();
	int rc;

	if (!a)
		return fail(image, -ENOMEM, "libarchive: out of memory%s", "");
	rw_archive_read_support_format_cpio(a);
	if (image->stream) {
		rc = rw_archive_read_open(a, image, NULL, client_read, NULL);
	} else {
		/* xz, lz4, bzip2, lzma: libarchive's own filters, from here to the end of the file. */
		rw_archive_read_support_filter_all(a);
		rc = lseek(image->fd, image->segment_start, SEEK_SET) < 0 ? ARCHIVE_FATAL
			: rw_archive_read_open_fd(a, image->fd, 64 * 1024);
	}
	if (rc != ARCHIVE_OK) {
		fail(image, -EINVAL, "%s", rw_archive_error_string(a));
		rw_archive_read_free(a);
		return -EINVAL;
	}
	image->archive = a;
	return 0;
}

static void note_compression(struct cw_initramfs *image)
{
	static const char *const names[] = { "none", "gzip", "zstd" };
	const char *name = image->stream ? names[image->stream->kind] : rw_archive_filter_name(image->archive, 0);
	size_t used = strlen(image->compressions);

	snprintf(image->compressions + used, sizeof(image->compressions) - used, "%s%s", used ? "," : "",
		 name && strcmp(name, "none") != 0 ? name : "none");
}

/* The first non-zero byte of the file at or after `at` (holes skipped), or the file size. */
static long long skip_file_zeros(struct cw_initramfs *image, long long at)
{
	char block[4096];

	while (at < image->file_size) {
		long long data = lseek(image->fd, at, SEEK_DATA);
		ssize_t n;

		if (data < 0)
			return image->file_size;  /* only a hole is left */
		at = data;
		n = pread(image->fd, block, sizeof(block), at);
		if (n <= 0)
			return image->file_size;
		for (ssize_t i = 0; i < n; i++) {
			if (block[i] != 0)
				return at + i;
		}
		at += n;
		image->unpacked += n;
		if (image->unpacked > image->max_unpacked)
			return -1;
	}
	return image->file_size;
}

static int start_segment(struct cw_initramfs *image, long long offset)
{
	enum segment_kind kind = segment_kind_at(image->fd, offset);

	image->segment_start = offset;
	image->stream = NULL;
	if (kind != SEGMENT_OTHER) {
		image->stream = segment_stream_new(image->fd, offset, image->file_size, kind);
		if (!image->stream)
			return fail(image, -ENOMEM, "%s", kind == SEGMENT_ZSTD ? "zstd: libzstd.so.1 cannot be loaded" : "out of memory");
	}
	image->archive_base = image->delivered = image->history_start = 0;
	image->history_len = image->replay = 0;
	if (open_archive(image) < 0)
		return -EINVAL;
	note_compression(image);
	return 0;
}

static void end_archive(struct cw_initramfs *image)
{
	if (image->archive) {
		if (!image->stream)
			image->unpacked += rw_archive_filter_bytes(image->archive, 0);
		rw_archive_read_free(image->archive);
	}
	image->archive = NULL;
}

static void end_segment(struct cw_initramfs *image)
{
	end_archive(image);
	segment_stream_free(image->stream);
	image->stream = NULL;
}

/* The segment's stream ended at `end` (its archive already closed): free it
 * and start the segment after its zero padding. 1 when the file ends there. */
static int next_segment(struct cw_initramfs *image, long long end)
{
	long long next = skip_file_zeros(image, end);

	segment_stream_free(image->stream);
	image->stream = NULL;
	if (next < 0)
		return fail(image, -EFBIG, "more padding than preflight's budget%s", ": a bomb, not an initramfs");
	if (next >= image->file_size)
		return 1;
	image->segment++;
	return start_segment(image, next);
}

/* After an archive's trailer: another archive in the same stream, the next
 * segment, or the end. 0 when the image goes on (a new archive is open), 1
 * at its end, negative on an error. */
static int after_trailer(struct cw_initramfs *image)
{
	/* The trailer entry: newc header (110 bytes) and "TRAILER!!!\0", padded to 4. */
	long long trailer_end = image->archive_base + rw_archive_read_header_position(image->archive) + 124;

	if (!image->stream) {
		/* Where a libarchive filter's stream ends is not known: this segment is the last one read. */
		end_segment(image);
		return 1;
	}
	end_archive(image);
	if (image->stream->kind == SEGMENT_CPIO)
		return next_segment(image, image->segment_start + trailer_end);
	/* A compressed stream: more archives may follow in it after zeros. */
	for (long long at = trailer_end;;) {
		if (at < image->history_start)
			return fail(image, -EINVAL, "%s", "a cpio trailer before the data kept to go on from");
		while (at < image->history_start + (long long)image->history_len && image->history[at - image->history_start] == 0)
			at++;
		if (at < image->history_start + (long long)image->history_len) {
			/* The next archive of this stream starts within the kept data. */
			size_t offset = (size_t)(at - image->history_start);
			memmove(image->history, image->history + offset, image->history_len - offset);
			image->history_len -= offset;
			image->history_start = at;
			image->replay = image->history_len;
			image->archive_base = at;
			return open_archive(image);
		}
		const char *why = NULL;
		long long n = segment_stream_read(image->stream, &why);
		if (n < 0)
			return fail(image, (int)n, "%s", why);
		if (n == 0)
			break;
		image->unpacked += n;
		if (image->unpacked > image->max_unpacked)
			return fail(image, -EFBIG, "more cpio data than preflight's budget%s", ": a bomb, not an initramfs");
		keep(image, (size_t)n);
	}
	/* The stream ended: the next segment starts after it and its padding. */
	return next_segment(image, segment_stream_end(image->stream));
}

struct cw_initramfs *cw_initramfs_open(int fd, long long max_unpacked, long long max_entries, int *error)
{
	struct cw_initramfs *image;
	struct stat st;
	int rc = load_libarchive();

	if (rc) {
		*error = rc;
		return NULL;
	}
	image = calloc(1, sizeof(*image));
	if (image)
		image->history = malloc(2 * CHUNK);
	if (!image || !image->history) {
		free(image);
		*error = -ENOMEM;
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*error = -errno;
		free(image->history);
		free(image);
		return NULL;
	}
	image->fd = fd;
	image->file_size = st.st_size;
	image->max_unpacked = max_unpacked;
	image->max_entries = max_entries;
	/* An image libarchive cannot even start on is still opened: the first
	 * cw_initramfs_next() reports why (truncated, unknown format). */
	image->pending = start_segment(image, 0);
	*error = 0;
	return image;
}

/* Reads the rest of the current entry's data (what libarchive's own skip would do). */
static int finish_entry(struct cw_initramfs *image)
{
	static char scratch[256 * 1024];
	la_ssize_t n;

	if (!image->in_entry)
		return 0;
	image->in_entry = 0;
	while ((n = rw_archive_read_data(image->archive, scratch, sizeof(scratch))) > 0)
		;
	if (n < 0)
		return fail(image, -EIO, "%s", rw_archive_error_string(image->archive));
	return 0;
}

int cw_initramfs_next(struct cw_initramfs *image, struct cw_initramfs_entry *entry)
{
	struct archive_entry *e;
	int rc;

	if (image->pending)
		return image->pending;
	while (image->archive) {
		if ((rc = finish_entry(image)) < 0)
			return image->pending = rc;
		rc = rw_archive_read_next_header(image->archive, &e);
		if (rc == ARCHIVE_OK) {
			const char *name = rw_archive_entry_pathname(e);

			if (++image->entries > image->max_entries)
				return image->pending = fail(image, -EFBIG, "more entries than preflight's budget%s", ": a bomb, not an initramfs");
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
		if (rc == ARCHIVE_WARN) {
			/* libarchive skips a damaged header to the next good one; the kernel's unpacker stops there. */
			return image->pending = fail(image, -EIO, "a damaged cpio header (%s)", rw_archive_error_string(image->archive));
		}
		if (rc != ARCHIVE_EOF)
			return image->pending = fail(image, -EIO, "%s", rw_archive_error_string(image->archive));
		if ((rc = after_trailer(image)) < 0)
			return image->pending = rc;
		if (rc == 1)
			break;
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
	return image->unpacked + (image->archive && !image->stream ? rw_archive_filter_bytes(image->archive, 0) : 0);
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
	free(image->history);
	free(image);
}
