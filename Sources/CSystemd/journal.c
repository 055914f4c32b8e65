#define _GNU_SOURCE
#include "cjournal.h"
#include "libsystemd.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

struct cw_journal {
	sd_journal *j;
	size_t field_length; /* of the field name last queried for unique values, "=" included */
};

int cw_journal_open(const char *directory, size_t field_limit, struct cw_journal **out)
{
	struct cw_journal *journal;
	int r = rw_load_libsystemd();

	*out = NULL;
	if (r < 0)
		return r;
	journal = calloc(1, sizeof(*journal));
	if (!journal)
		return -ENOMEM;
	r = directory ? rw_sd_journal_open_directory(&journal->j, directory, 0)
		      : rw_sd_journal_open(&journal->j, SD_JOURNAL_LOCAL_ONLY);
	if (r >= 0)
		r = rw_sd_journal_set_data_threshold(journal->j, field_limit);
	if (r < 0) {
		cw_journal_close(journal);
		return r;
	}
	*out = journal;
	return 0;
}

void cw_journal_close(struct cw_journal *journal)
{
	if (!journal)
		return;
	if (journal->j)
		rw_sd_journal_close(journal->j);
	free(journal);
}

int cw_journal_file_readable(const char *path)
{
	const char *paths[] = { path, NULL };
	sd_journal *j;
	int r = rw_load_libsystemd();

	if (r < 0)
		return r;
	r = rw_sd_journal_open_files(&j, paths, 0);
	if (r < 0)
		return r;
	r = rw_sd_journal_next(j);
	rw_sd_journal_close(j);
	return r < 0 ? r : r > 0;
}

int cw_journal_match(struct cw_journal *journal, const char *field_value, size_t length)
{
	return rw_sd_journal_add_match(journal->j, field_value, length);
}

int cw_journal_or(struct cw_journal *journal)
{
	return rw_sd_journal_add_disjunction(journal->j);
}

void cw_journal_clear(struct cw_journal *journal)
{
	rw_sd_journal_flush_matches(journal->j);
}

int cw_journal_seek_head(struct cw_journal *journal)
{
	return rw_sd_journal_seek_head(journal->j);
}

int cw_journal_seek_tail(struct cw_journal *journal)
{
	return rw_sd_journal_seek_tail(journal->j);
}

int cw_journal_seek_realtime(struct cw_journal *journal, uint64_t usec)
{
	return rw_sd_journal_seek_realtime_usec(journal->j, usec);
}

int cw_journal_step(struct cw_journal *journal, int backward)
{
	return backward ? rw_sd_journal_previous(journal->j) : rw_sd_journal_next(journal->j);
}

int cw_journal_realtime(struct cw_journal *journal, uint64_t *usec)
{
	return rw_sd_journal_get_realtime_usec(journal->j, usec);
}

/* sd-journal hands out "FIELD=value": skip the name and the '='. */
static int value_after(const void *data, size_t size, size_t name_length, const uint8_t **value, size_t *length)
{
	if (size < name_length)
		return -EBADMSG;
	*value = (const uint8_t *)data + name_length;
	*length = size - name_length;
	return 1;
}

int cw_journal_field(struct cw_journal *journal, const char *field, const uint8_t **value, size_t *length)
{
	const void *data;
	size_t size;
	int r = rw_sd_journal_get_data(journal->j, field, &data, &size);

	if (r < 0)
		return r;
	return value_after(data, size, strlen(field) + 1, value, length);
}

int cw_journal_unique_start(struct cw_journal *journal, const char *field)
{
	journal->field_length = strlen(field) + 1;
	return rw_sd_journal_query_unique(journal->j, field);
}

int cw_journal_unique_next(struct cw_journal *journal, const uint8_t **value, size_t *length)
{
	const void *data;
	size_t size;
	int r = rw_sd_journal_enumerate_unique(journal->j, &data, &size);

	if (r <= 0)
		return r;
	return value_after(data, size, journal->field_length, value, length);
}

int cw_journal_send(const char *const *fields, const size_t *lengths, int count)
{
	struct iovec *iov;
	int r = rw_load_libsystemd();

	if (r < 0)
		return r;
	if (count <= 0)
		return -EINVAL;
	iov = calloc((size_t)count, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		iov[i].iov_base = (void *)fields[i];
		iov[i].iov_len = lengths[i];
	}
	r = rw_sd_journal_sendv(iov, count);
	free(iov);
	return r;
}
