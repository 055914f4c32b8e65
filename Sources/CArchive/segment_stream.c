#define _GNU_SOURCE
#include "segment_stream.h"
#include "cdynamic.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RW_ZSTD_FUNCTIONS(X) \
	X(ZSTD_createDStream) \
	X(ZSTD_initDStream) \
	X(ZSTD_decompressStream) \
	X(ZSTD_freeDStream) \
	X(ZSTD_isError) \
	X(ZSTD_getErrorName)
RW_ZSTD_FUNCTIONS(RW_DECLARE)
static const struct rw_symbol zstd_symbols[] = { RW_ZSTD_FUNCTIONS(RW_SYMBOL) };

/* libarchive depends on libzstd: where one is, so is the other. */
static int load_libzstd(void)
{
	static int state;
	return RW_DLOPEN("libzstd.so.1", zstd_symbols, &state);
}


static int magic_at(int fd, long long offset, const unsigned char *magic, size_t length)
{
	unsigned char bytes[8];
	return length <= sizeof(bytes) && pread(fd, bytes, length, offset) == (ssize_t)length && memcmp(bytes, magic, length) == 0;
}

enum segment_kind segment_kind_at(int fd, long long offset)
{
	static const unsigned char gzip[] = { 0x1f, 0x8b }, zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (magic_at(fd, offset, gzip, sizeof(gzip)))
		return SEGMENT_GZIP;
	if (magic_at(fd, offset, zstd, sizeof(zstd)))
		return SEGMENT_ZSTD;
	if (magic_at(fd, offset, (const unsigned char *)"0707", 4))
		return SEGMENT_CPIO;
	return SEGMENT_OTHER;
}

/* Input for the decompressors: the next chunk of the file. */
static int stream_fill(struct stream *s)
{
	ssize_t n;

	if (s->in_pos < s->in_len)
		return 0;
	n = pread(s->fd, s->in, sizeof(s->in), s->offset);
	if (n < 0)
		return -errno;
	s->offset += n;
	s->in_pos = 0;
	s->in_len = (size_t)n;
	return 0;
}

/* The file offset just after the compressed data read so far. */
long long segment_stream_end(const struct stream *s)
{
	return s->offset - (long long)(s->in_len - s->in_pos);
}

/* Another gzip member or zstd frame follows this one (concatenated streams are one segment). */
static int stream_continues(struct stream *s, const unsigned char *magic, size_t length)
{
	return magic_at(s->fd, segment_stream_end(s), magic, length);
}

/* Up to CHUNK bytes of cpio data in s->out: the count, 0 at the stream's end, or -errno with `why`. */
long long segment_stream_read(struct stream *s, const char **why)
{
	static const unsigned char gzip_magic[] = { 0x1f, 0x8b }, zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };

	if (s->kind == SEGMENT_CPIO) {
		ssize_t n = pread(s->fd, s->out, sizeof(s->out), s->offset);
		if (n < 0) {
			*why = "read error";
			return -errno;
		}
		s->offset += n;
		return n;
	}
	while (!s->finished) {
		size_t produced;
		int rc = stream_fill(s);

		if (rc < 0) {
			*why = "read error";
			return rc;
		}
		if (s->in_pos == s->in_len) {
			*why = s->kind == SEGMENT_GZIP ? "truncated gzip data" : "truncated zstd data";
			return -EINVAL;
		}
		if (s->kind == SEGMENT_GZIP) {
			s->gzip.next_in = s->in + s->in_pos;
			s->gzip.avail_in = (uint32_t)(s->in_len - s->in_pos);
			s->gzip.next_out = s->out;
			s->gzip.avail_out = sizeof(s->out);
			if (isal_inflate(&s->gzip) < 0) {
				*why = "gzip data is corrupt";
				return -EINVAL;
			}
			s->in_pos = s->in_len - s->gzip.avail_in;
			produced = sizeof(s->out) - s->gzip.avail_out;
			if (s->gzip.block_state == ISAL_BLOCK_FINISH) {
				if (stream_continues(s, gzip_magic, sizeof(gzip_magic))) {
					isal_inflate_reset(&s->gzip);
					s->gzip.crc_flag = ISAL_GZIP;
				} else {
					s->finished = 1;
				}
			}
		} else {
			ZSTD_inBuffer input = { s->in, s->in_len, s->in_pos };
			ZSTD_outBuffer output = { s->out, sizeof(s->out), 0 };
			size_t left = rw_ZSTD_decompressStream(s->zstd, &output, &input);

			if (rw_ZSTD_isError(left)) {
				*why = rw_ZSTD_getErrorName(left);
				return -EINVAL;
			}
			s->in_pos = input.pos;
			produced = output.pos;
			if (left == 0 && !stream_continues(s, zstd_magic, sizeof(zstd_magic)))
				s->finished = 1;
		}
		if (produced)
			return (long long)produced;
	}
	return 0;
}

struct stream *segment_stream_new(int fd, long long offset, long long file_size, enum segment_kind kind)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->fd = fd;
	s->offset = offset;
	s->file_size = file_size;
	if (kind == SEGMENT_GZIP) {
		isal_inflate_init(&s->gzip);
		s->gzip.crc_flag = ISAL_GZIP;
	} else if (kind == SEGMENT_ZSTD) {
		if (load_libzstd() < 0 || !(s->zstd = rw_ZSTD_createDStream())) {
			free(s);
			return NULL;
		}
		rw_ZSTD_initDStream(s->zstd);
	}
	return s;
}

void segment_stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->zstd)
		rw_ZSTD_freeDStream(s->zstd);
	free(s);
}
