/*
 * rw-selftest fake-bus-service --address ADDR [--delay-ms N]
 *   Owns org.freedesktop.login1 and org.freedesktop.systemd1 on the bus at
 *   ADDR (a private test bus, never the system bus) and answers every method
 *   call with an empty reply after N ms (default 300), as logind and systemd
 *   answer once they have started the job: the caller is still connected
 *   while the witness's D-Bus monitor looks at it. It never reboots anything.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

static int answer(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	int delay_ms = *(int *)userdata;
	struct timespec pause = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };

	(void)error;
	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	nanosleep(&pause, NULL);
	return sd_bus_reply_method_return(m, NULL) < 0 ? 0 : 1;
}

int fake_bus_service(const char *address, int delay_ms)
{
	sd_bus *bus = NULL;
	int r;

	if (!address || strncmp(address, "unix:path=/run/dbus/", 20) == 0) {
		fprintf(stderr, "rw-selftest: fake-bus-service needs a private test bus address\n");
		return 2;
	}
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, answer, &delay_ms);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.login1", 0);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
	if (r < 0) {
		fprintf(stderr, "rw-selftest: fake-bus-service: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r == 0 && sd_bus_wait(bus, (uint64_t)-1) < 0)
			break;
	}
	sd_bus_flush_close_unref(bus);
	return 0;
}
