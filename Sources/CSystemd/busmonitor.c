#define _GNU_SOURCE
#include "cbusmonitor.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libsystemd.h"

struct cw_bus_monitor {
	sd_bus *monitor;  /* in monitor mode: it may not send anything more */
	sd_bus *query;    /* an ordinary connection, to ask for senders' pids */
};

static const char *const rules[] = {
	"type='method_call',interface='org.freedesktop.login1.Manager'",
	"type='method_call',interface='org.freedesktop.systemd1.Manager'",
};

static int connect_bus(sd_bus **bus, const char *address, int monitor)
{
	int r = rw_sd_bus_new(bus);

	if (r < 0)
		return r;
	r = rw_sd_bus_set_address(*bus, address ? address : "unix:path=/run/dbus/system_bus_socket");
	if (r >= 0 && monitor)
		r = rw_sd_bus_set_monitor(*bus, 1);
	if (r >= 0)
		r = rw_sd_bus_set_bus_client(*bus, 1);
	if (r >= 0)
		r = rw_sd_bus_start(*bus);
	if (r < 0)
		*bus = rw_sd_bus_unref(*bus);
	return r;
}

struct cw_bus_monitor *cw_bus_monitor_open(const char *address, int *error)
{
	struct cw_bus_monitor *m;
	sd_bus_message *request = NULL;
	sd_bus_error bus_error = SD_BUS_ERROR_NULL;
	int r = rw_load_libsystemd();

	if (r < 0) {
		*error = r;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		*error = -ENOMEM;
		return NULL;
	}
	r = connect_bus(&m->query, address, 0);
	if (r >= 0)
		r = connect_bus(&m->monitor, address, 1);
	if (r >= 0)
		r = rw_sd_bus_message_new_method_call(m->monitor, &request, "org.freedesktop.DBus", "/org/freedesktop/DBus",
						   "org.freedesktop.DBus.Monitoring", "BecomeMonitor");
	if (r >= 0)
		r = rw_sd_bus_message_open_container(request, 'a', "s");
	for (size_t i = 0; r >= 0 && i < sizeof(rules) / sizeof(rules[0]); i++)
		r = rw_sd_bus_message_append_basic(request, 's', rules[i]);
	if (r >= 0)
		r = rw_sd_bus_message_close_container(request);
	if (r >= 0)
		r = rw_sd_bus_message_append(request, "u", 0);
	if (r >= 0)
		r = rw_sd_bus_call(m->monitor, request, 0, &bus_error, NULL);
	rw_sd_bus_message_unref(request);
	rw_sd_bus_error_free(&bus_error);
	if (r < 0) {
		*error = r;
		cw_bus_monitor_close(m);
		return NULL;
	}
	return m;
}

int cw_bus_monitor_fd(struct cw_bus_monitor *m)
{
	return rw_sd_bus_get_fd(m->monitor);
}

/* Whether `sender` (a unique name) owns org.freedesktop.login1 now, as the
 * bus daemon says: 1, 0 (another connection does, or none), -1 (the bus
 * would not say). Only the bus can tell logind's relay from a root process
 * that moved into logind's cgroup and dropped its login uid. */
static int owns_login1(sd_bus *query, const char *sender)
{
	sd_bus_creds *creds = NULL;
	const char *owner = NULL;
	int r = rw_sd_bus_get_name_creds(query, "org.freedesktop.login1", SD_BUS_CREDS_UNIQUE_NAME, &creds);

	if (r >= 0)
		r = rw_sd_bus_creds_get_unique_name(creds, &owner);
	int owns = r >= 0 && owner ? strcmp(owner, sender) == 0 : r == -ENXIO ? 0 : -1;
	rw_sd_bus_creds_unref(creds);
	return owns;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int cw_bus_monitor_next(struct cw_bus_monitor *m, struct cw_bus_call *call)
{
	for (;;) {
		sd_bus_message *message = NULL;
		int r = rw_sd_bus_process(m->monitor, &message);

		if (r < 0)
			return r;
		if (!message) {
			if (r > 0)
				continue;
			return 0;
		}
		if (rw_sd_bus_message_get_type(message, NULL) >= 0 && !rw_sd_bus_message_is_method_call(message, NULL, NULL)) {
			rw_sd_bus_message_unref(message);
			continue;
		}
		memset(call, 0, sizeof(*call));
		copy(call->sender, sizeof(call->sender), rw_sd_bus_message_get_sender(message));
		copy(call->destination, sizeof(call->destination), rw_sd_bus_message_get_destination(message));
		copy(call->interface, sizeof(call->interface), rw_sd_bus_message_get_interface(message));
		copy(call->member, sizeof(call->member), rw_sd_bus_message_get_member(message));
		const char *arg0 = NULL;
		char type = 0;
		uint64_t flags = 0;
		if (rw_sd_bus_message_peek_type(message, &type, NULL) > 0 && type == 's' &&
		    rw_sd_bus_message_read_basic(message, 's', &arg0) > 0)
			copy(call->arg0, sizeof(call->arg0), arg0);
		else if (type == 't' && rw_sd_bus_message_read_basic(message, 't', &flags) > 0) {
			call->flags = flags;
			call->has_flags = 1;
		}
		uint64_t usec = 0;
		if (rw_sd_bus_message_get_realtime_usec(message, &usec) >= 0)
			call->realtime_usec = usec;
		rw_sd_bus_message_unref(message);
		call->sender_owns_login1 = -1;
		return 1;
	}
}

void cw_bus_monitor_ask_sender(struct cw_bus_monitor *m, struct cw_bus_call *call)
{
	sd_bus_creds *creds = NULL;
	pid_t pid = 0;

	if (!call->sender[0])
		return;
	if (rw_sd_bus_get_name_creds(m->query, call->sender, SD_BUS_CREDS_PID, &creds) >= 0 &&
	    rw_sd_bus_creds_get_pid(creds, &pid) >= 0)
		call->sender_pid = pid;
	rw_sd_bus_creds_unref(creds);
	call->sender_owns_login1 = owns_login1(m->query, call->sender);
}

void cw_bus_monitor_close(struct cw_bus_monitor *m)
{
	if (!m)
		return;
	rw_sd_bus_flush_close_unref(m->monitor);
	rw_sd_bus_flush_close_unref(m->query);
	free(m);
}
