/* sd-journal (libsystemd, loaded with dlopen) for reading earlier boots'
 * journals through indexed matches. Swift cannot reach a dlopen'd library's
 * functions by name, so each sd_journal_* call used is wrapped once here;
 * every function returns what its sd_journal_* counterpart returns
 * (negative errno on failure). */
#ifndef CJOURNAL_H
#define CJOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct cw_journal;

/* sd_journal_open_directory(directory) or, with NULL, sd_journal_open of
 * the local system's journal. Fields are read up to `field_limit` bytes. */
int cw_journal_open(const char *directory, size_t field_limit, struct cw_journal **out);
void cw_journal_close(struct cw_journal *journal);

/* 1 when sd_journal_open_files reads at least one entry from `path` alone,
 * 0 when it reads none, negative errno when it cannot open it. */
int cw_journal_file_readable(const char *path);

/* sd_journal_add_match("FIELD=value"), sd_journal_add_disjunction,
 * sd_journal_flush_matches. */
int cw_journal_match(struct cw_journal *journal, const char *field_value, size_t length);
int cw_journal_or(struct cw_journal *journal);
void cw_journal_clear(struct cw_journal *journal);

/* sd_journal_seek_head / _tail / _realtime_usec. */
int cw_journal_seek_head(struct cw_journal *journal);
int cw_journal_seek_tail(struct cw_journal *journal);
int cw_journal_seek_realtime(struct cw_journal *journal, uint64_t usec);
/* sd_journal_next, or sd_journal_previous when `backward`: 1 moved, 0 at the end. */
int cw_journal_step(struct cw_journal *journal, int backward);

int cw_journal_realtime(struct cw_journal *journal, uint64_t *usec);
/* The value of FIELD in the current entry (after "FIELD="), not NUL-terminated. */
int cw_journal_field(struct cw_journal *journal, const char *field, const uint8_t **value, size_t *length);

/* sd_journal_query_unique(field), then sd_journal_enumerate_unique: the
 * next value (after "FIELD="), 1; 0 when there are no more. Matches do not
 * restrict it (sd-journal's documented behaviour). */
int cw_journal_unique_start(struct cw_journal *journal, const char *field);
int cw_journal_unique_next(struct cw_journal *journal, const uint8_t **value, size_t *length);

/* sd_journal_sendv of `count` "FIELD=value" strings (values may hold
 * newlines; sd-journal encodes them): one structured journal entry. */
int cw_journal_send(const char *const *fields, const size_t *lengths, int count);

#endif
