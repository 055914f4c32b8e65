/* The audit log through libauparse (audit-userspace), loaded with dlopen so
 * that the binary runs where libauparse0 is not installed. Swift cannot
 * reach a dlopen'd library's functions by name: the few auparse calls used
 * are wrapped here. */
#ifndef CAUDIT_H
#define CAUDIT_H

struct cw_audit;

/* One event: its first record's type name, its time, and "name=value"
 * pairs (interpreted values, as ausearch -i shows them) of all its records,
 * separated by '\x1f' in `fields` (cut at the buffer's end). */
struct cw_audit_event {
	char type[40];
	long long seconds;
	unsigned int milli;
	unsigned long serial;
	unsigned int line;
	char file[256];
	char fields[2048];
};

/* Opens `files` (oldest first, `count` of them) for the events that match
 * the ausearch expression (ausearch-expression(5)); NULL with a negative
 * errno in *error (-ENOENT: no libauparse.so.0) and, for a bad expression,
 * auparse's message in `message`. */
struct cw_audit *cw_audit_open(const char *const *files, int count, const char *expression, int *error,
			       char *message, int message_size);
/* 1 and the next matching event in *event, 0 at the end, negative errno. */
int cw_audit_next(struct cw_audit *audit, struct cw_audit_event *event);
void cw_audit_close(struct cw_audit *audit);

#endif
