/* The audit log through libauparse (audit-userspace), loaded with dlopen so
 * that the binary runs where libauparse0 is not installed. Swift cannot
 * reach a dlopen'd library's functions by name: the few auparse calls used
 * are wrapped here. */
#ifndef CAUDIT_H
#define CAUDIT_H

struct cw_audit;

/* One event: its first record's type name, its time, the line of the
 * buffer it starts on, and "name=value" pairs (interpreted values, as
 * ausearch -i shows them; only the fields the evidence reads, each value
 * cut at 1,024 bytes) of all its records, separated by '\x1f'. */
struct cw_audit_event {
	char type[40];
	long long seconds;
	unsigned int milli;
	unsigned long serial;
	unsigned int line;
	char fields[4096];
};

/* Opens the records in `text` (log lines, NUL-terminated; the caller has
 * kept only the record types it wants, so libauparse never has to group
 * the others) for the events that match the ausearch expression
 * (ausearch-expression(5)); NULL with a negative errno in *error (-ENOENT:
 * no libauparse.so.0) and, for a bad expression, auparse's message in
 * `message`. */
struct cw_audit *cw_audit_open(const char *text, const char *expression, int *error, char *message, int message_size);
/* 1 and the next matching event in *event, 0 at the end, negative errno. */
int cw_audit_next(struct cw_audit *audit, struct cw_audit_event *event);
void cw_audit_close(struct cw_audit *audit);

#endif
