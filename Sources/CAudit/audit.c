#define _GNU_SOURCE
#include "caudit.h"
#include <auparse.h>
#include "cdynamic.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RW_AUPARSE_FUNCTIONS(X) \
	X(auparse_init) \
	X(auparse_destroy) \
	X(ausearch_add_expression) \
	X(ausearch_set_stop) \
	X(ausearch_next_event) \
	X(auparse_next_event) \
	X(auparse_get_time) \
	X(auparse_get_milli) \
	X(auparse_get_serial) \
	X(auparse_first_record) \
	X(auparse_next_record) \
	X(auparse_get_type_name) \
	X(auparse_get_line_number) \
	X(auparse_get_filename) \
	X(auparse_first_field) \
	X(auparse_next_field) \
	X(auparse_get_field_name) \
	X(auparse_interpret_field)

#define RW_DECLARE(fn) static __typeof__(&fn) rw_##fn;
RW_AUPARSE_FUNCTIONS(RW_DECLARE)

static const struct rw_symbol symbols[] = { RW_AUPARSE_FUNCTIONS(RW_SYMBOL) };

static int load_libauparse(void)
{
	static int state;

	return RW_DLOPEN("libauparse.so.0", symbols, &state);
}

struct cw_audit {
	auparse_state_t *au;
	char **files;
	int started;         /* an event was returned: `last` below is set */
	long long last_seconds;
	unsigned int last_milli;
	unsigned long last_serial;
};

struct cw_audit *cw_audit_open(const char *const *files, int count, const char *expression, int *error,
			       char *message, int message_size)
{
	struct cw_audit *audit;
	char *problem = NULL;
	int r = load_libauparse();

	message[0] = 0;
	if (r < 0) {
		*error = r;
		return NULL;
	}
	audit = calloc(1, sizeof(*audit));
	if (audit)
		audit->files = calloc(count + 1, sizeof(char *));
	if (!audit || !audit->files) {
		free(audit);
		*error = -ENOMEM;
		return NULL;
	}
	/* auparse keeps the array for as long as it reads: copies, freed in close. */
	for (int i = 0; i < count; i++) {
		if (!(audit->files[i] = strdup(files[i]))) {
			*error = -ENOMEM;
			cw_audit_close(audit);
			return NULL;
		}
	}
	audit->au = rw_auparse_init(AUSOURCE_FILE_ARRAY, audit->files);
	if (!audit->au) {
		*error = errno ? -errno : -EIO;
		cw_audit_close(audit);
		return NULL;
	}
	if (rw_ausearch_add_expression(audit->au, expression, &problem, AUSEARCH_RULE_CLEAR) != 0 ||
	    rw_ausearch_set_stop(audit->au, AUSEARCH_STOP_EVENT) != 0) {
		*error = errno ? -errno : -EINVAL;
		if (problem)
			snprintf(message, message_size, "%s", problem);
		free(problem);
		cw_audit_close(audit);
		return NULL;
	}
	return audit;
}

static void append(char *buffer, size_t size, const char *name, const char *value)
{
	size_t used = strlen(buffer);

	if (used + 1 >= size)
		return;
	snprintf(buffer + used, size - used, "%s%s=%s", used ? "\x1f" : "", name, value ? value : "");
}

int cw_audit_next(struct cw_audit *audit, struct cw_audit_event *event)
{
	int r;

	/* libauparse 3.0 moves past the event it returned on the next search;
	 * should a version return the same event again, step past it here. */
	for (;;) {
		r = rw_ausearch_next_event(audit->au);
		if (r <= 0)
			return r < 0 ? -EIO : 0;
		if (!audit->started || rw_auparse_get_time(audit->au) != audit->last_seconds ||
		    rw_auparse_get_milli(audit->au) != audit->last_milli ||
		    rw_auparse_get_serial(audit->au) != audit->last_serial)
			break;
		if (rw_auparse_next_event(audit->au) <= 0)
			return 0;
	}
	audit->started = 1;
	memset(event, 0, sizeof(*event));
	event->seconds = audit->last_seconds = rw_auparse_get_time(audit->au);
	event->milli = audit->last_milli = rw_auparse_get_milli(audit->au);
	event->serial = audit->last_serial = rw_auparse_get_serial(audit->au);
	rw_auparse_first_record(audit->au);
	snprintf(event->type, sizeof(event->type), "%s", rw_auparse_get_type_name(audit->au) ?: "");
	event->line = rw_auparse_get_line_number(audit->au);
	snprintf(event->file, sizeof(event->file), "%s", rw_auparse_get_filename(audit->au) ?: "");
	do {
		if (rw_auparse_first_field(audit->au) <= 0)
			continue;
		do {
			const char *name = rw_auparse_get_field_name(audit->au);
			if (name && strcmp(name, "type") != 0)
				append(event->fields, sizeof(event->fields), name, rw_auparse_interpret_field(audit->au));
		} while (rw_auparse_next_field(audit->au) > 0);
	} while (rw_auparse_next_record(audit->au) > 0);
	return 1;
}

void cw_audit_close(struct cw_audit *audit)
{
	if (!audit)
		return;
	if (audit->au)
		rw_auparse_destroy(audit->au);
	for (char **file = audit->files; file && *file; file++)
		free(*file);
	free(audit->files);
	free(audit);
}
