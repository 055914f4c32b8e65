#define _GNU_SOURCE
#include "cmanager.h"
#include "libsystemd.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* PID 1's own socket: it answers before dbus-daemon runs (arm starts early
 * in sysinit) and, unlike the bus, cannot be answered by another name owner. */
static int open_private(sd_bus **bus)
{
	int rc;

	if ((rc = rw_sd_bus_new(bus)) < 0)
		return rc;
	/* A PID 1 busy with a transaction must not hold arm's start for sd-bus's 25 s. */
	if ((rc = rw_sd_bus_set_address(*bus, "unix:path=/run/systemd/private")) < 0 ||
	    (rc = rw_sd_bus_set_method_call_timeout(*bus, 1000 * 1000)) < 0 ||
	    (rc = rw_sd_bus_start(*bus)) < 0) {
		rw_sd_bus_flush_close_unref(*bus);
		*bus = NULL;
	}
	return rc;
}

int cw_systemd_soft_reboots(unsigned *count, char *message, int message_size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	uint32_t value = 0;
	int rc;

	message[0] = 0;
	/* sd_booted()'s test, before libsystemd is loaded for nothing (it and
	 * its compression and crypto libraries cost arm a megabyte of RSS). */
	if (access("/run/systemd/system/", F_OK) < 0) {
		snprintf(message, message_size, "systemd is not the init system (no /run/systemd/system)");
		return -ENOENT;
	}
	if ((rc = rw_require_libsystemd(message, message_size)) < 0)
		return rc;
	/* Not the system bus: arm starts before dbus-daemon, and a call to its
	 * socket would wait for the daemon (socket activation) until the timeout. */
	if ((rc = open_private(&bus)) < 0) {
		snprintf(message, message_size, "cannot reach PID 1 on /run/systemd/private: %s", strerror(-rc));
		return rc;
	}
	rc = rw_sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
					    "org.freedesktop.systemd1.Manager", "SoftRebootsCount", &error, 'u', &value);
	if (rc < 0)
		snprintf(message, message_size, "SoftRebootsCount: %s", error.message ? error.message : strerror(-rc));
	else
		*count = value;
	rw_sd_bus_error_free(&error);
	rw_sd_bus_flush_close_unref(bus);
	return rc < 0 ? rc : 0;
}
