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

RW_AUPARSE_FUNCTIONS(RW_DECLARE)

static const struct rw_symbol symbols[] = { RW_AUPARSE_FUNCTIONS(RW_SYMBOL) };

static int load_libauparse(void)
{
	static int state;

	return RW_DLOPEN("libauparse.so.0", symbols, &state);
}

struct cw_audit {
	auparse_state_t *au;
	char *buffer;
	int started;         /* an event was returned: `last` below is set */
	long long last_seconds;
	unsigned int last_milli;
	unsigned long last_serial;
};

struct cw_audit *cw_audit_open(const char *text, const char *expression, int *error, char *message, int message_size)
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
		audit->buffer = strdup(text);
	if (!audit || !audit->buffer) {
		free(audit);
		*error = -ENOMEM;
		return NULL;
	}
	/* auparse reads the buffer for as long as it parses: a copy, freed in close. */
	audit->au = rw_auparse_init(AUSOURCE_BUFFER, audit->buffer);
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

/* The fields the evidence reads: only these are kept, so that a long value
 * (a command line) cannot push `res=` out of the event's buffer. */
static int wanted_field(const char *name)
{
	static const char *const names[] = { "pid", "uid", "auid", "ses", "exe", "comm", "cmd", "terminal", "res",
					     "addr", "hostname", "unit", "new-level", "old-level", "acct", NULL };
	for (int i = 0; names[i]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Appends "name=value" (the value cut at 1,024 bytes); a pair that does not fit whole is left out. */
static void append(char *buffer, size_t size, const char *name, const char *value)
{
	size_t used = strlen(buffer);
	int n;

	if (used + 1 >= size)
		return;
	n = snprintf(buffer + used, size - used, "%s%s=%.1024s", used ? "\x1f" : "", name, value ? value : "");
	if (n < 0 || (size_t)n >= size - used)
		buffer[used] = 0;
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
	do {
		if (rw_auparse_first_field(audit->au) <= 0)
			continue;
		do {
			const char *name = rw_auparse_get_field_name(audit->au);
			if (name && wanted_field(name))
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
	free(audit->buffer);
	free(audit);
}
