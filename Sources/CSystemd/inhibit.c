#define _GNU_SOURCE
#include "cinhibit.h"
#include "libsystemd.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int cw_logind_inhibit(const char *what, const char *who, const char *why, const char *mode,
		      char *message, int message_size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	int fd = -1, rc;

	message[0] = 0;
	if ((rc = rw_require_libsystemd(message, message_size)) < 0)
		return rc;
	if ((rc = rw_sd_bus_open_system(&bus)) < 0) {
		snprintf(message, message_size, "cannot reach the system bus: %s", strerror(-rc));
		return rc;
	}
	rc = rw_sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
				   "org.freedesktop.login1.Manager", "Inhibit", &error, &reply,
				   "ssss", what, who, why, mode);
	if (rc < 0) {
		snprintf(message, message_size, "logind Inhibit: %s", error.message ? error.message : strerror(-rc));
		goto out;
	}
	if ((rc = rw_sd_bus_message_read(reply, "h", &fd)) < 0) {
		snprintf(message, message_size, "logind Inhibit: unreadable reply: %s", strerror(-rc));
		goto out;
	}
	/* The reply owns its descriptor: keep a copy. */
	rc = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (rc < 0) {
		rc = -errno;
		snprintf(message, message_size, "dup: %s", strerror(errno));
	}
out:
	rw_sd_bus_error_free(&error);
	if (reply)
		rw_sd_bus_message_unref(reply);
	rw_sd_bus_flush_close_unref(bus);
	return rc;
}
