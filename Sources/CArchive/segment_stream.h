/* One initramfs segment read as cpio data (init/initramfs.c's order: a
 * plain cpio archive, or a gzip or zstd stream of them), with where its
 * compressed data ends in the file: archive.c finds the next segment there. */
#ifndef SEGMENT_STREAM_H
#define SEGMENT_STREAM_H
#include <isa-l/igzip_lib.h>
#include <zstd.h>

enum segment_kind { SEGMENT_CPIO, SEGMENT_GZIP, SEGMENT_ZSTD, SEGMENT_OTHER };

#define CHUNK (256 * 1024)

/* One segment's bytes as cpio data: the file itself (plain cpio), or what
 * ISA-L or libzstd inflates, with where the compressed data ends. */
struct stream {
	enum segment_kind kind;
	int fd;
	long long offset;           /* the next file byte to read */
	long long file_size;
	int finished;               /* the compressed data ended (its end is `offset` minus what is left in `in`) */
	struct inflate_state gzip;
	ZSTD_DStream *zstd;
	size_t in_pos, in_len;
	unsigned char in[CHUNK];
	unsigned char out[CHUNK];
};

/* What the segment at `offset` is, from its magic. */
enum segment_kind segment_kind_at(int fd, long long offset);
/* A stream over the segment at `offset`; NULL without memory or, for zstd, without libzstd. */
struct stream *segment_stream_new(int fd, long long offset, long long file_size, enum segment_kind kind);
/* Up to CHUNK bytes of cpio data in s->out: the count, 0 at the stream's end, or -errno with `why`. */
long long segment_stream_read(struct stream *s, const char **why);
/* The file offset just after the compressed data read so far. */
long long segment_stream_end(const struct stream *s);
void segment_stream_free(struct stream *s);

#endif
