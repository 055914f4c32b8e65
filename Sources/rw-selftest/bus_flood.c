/*
 * rw-selftest bus-flood --address ADDR --calls N
 *   On a private test bus (never the system bus): N CanReboot calls to
 *   logind's interface, N Reboot(false) calls (as many refused requests),
 *   then one PowerOff(false), none expecting a reply (so the flood costs
 *   this process nothing). Prints "pid PID sent USEC" (CLOCK_REALTIME once
 *   all are flushed), stays connected one second, as systemctl waits for
 *   logind's answer, and exits: someone who floods logind's interface so
 *   that the witness's record of a request comes late, or after its sender
 *   is gone.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

static int send_call(sd_bus *bus, const char *member, int with_bool)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.login1", "/org/freedesktop/login1",
					       "org.freedesktop.login1.Manager", member);

	if (r >= 0 && with_bool)
		r = sd_bus_message_append(m, "b", 0);
	if (r >= 0)
		r = sd_bus_message_set_expect_reply(m, 0);
	if (r >= 0)
		r = sd_bus_send(bus, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

int bus_flood(const char *address, int calls)
{
	sd_bus *bus = NULL;
	struct timespec now;
	int r;

	if (!address || strncmp(address, "unix:path=/run/dbus/", 20) == 0) {
		fprintf(stderr, "rw-selftest: bus-flood needs a private test bus address\n");
		return 2;
	}
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	for (int i = 0; r >= 0 && i < calls; i++)
		r = send_call(bus, "CanReboot", 0);
	for (int i = 0; r >= 0 && i < calls; i++)
		r = send_call(bus, "Reboot", 1);
	if (r >= 0)
		r = send_call(bus, "PowerOff", 1);
	if (r >= 0)
		r = sd_bus_flush(bus);
	if (r < 0) {
		fprintf(stderr, "rw-selftest: bus-flood: %s\n", strerror(-r));
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	printf("pid %d sent %lld\n", getpid(), (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	fflush(stdout);
	sleep(1);
	sd_bus_flush_close_unref(bus);
	return 0;
}
