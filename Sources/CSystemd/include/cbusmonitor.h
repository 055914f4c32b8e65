/* A D-Bus monitor (sd-bus, from libsystemd) for the calls that restart, halt
 * or power off the machine through logind or systemd. Only what Swift cannot
 * call directly lives here: sd-bus's variadic and message-reading API. */
#ifndef CBUSMONITOR_H
#define CBUSMONITOR_H

struct cw_bus_call {
	char sender[64];
	char destination[128];
	char interface[128];
	char member[64];
	char arg0[128];        /* the first string argument (StartUnit's unit), if any */
	unsigned long long flags;  /* the first argument when it is a uint64 (logind's *WithFlags) */
	int has_flags;
	unsigned int sender_pid;  /* 0 when the bus would not say */
	int sender_owns_login1;    /* the sender owned org.freedesktop.login1 (logind's name): 1, 0, or -1 when the bus would not say */
	unsigned long long realtime_usec;
};

struct cw_bus_monitor;

/* Connects to `address` (NULL: the system bus) and becomes a monitor of
 * method calls to org.freedesktop.login1.Manager and
 * org.freedesktop.systemd1.Manager. NULL and a negative errno in *error on
 * failure. */
struct cw_bus_monitor *cw_bus_monitor_open(const char *address, int *error);
/* The descriptor to poll for input. */
int cw_bus_monitor_fd(struct cw_bus_monitor *monitor);
/* The next method call seen: 1 (filled, the sender not asked about yet:
 * sender_pid 0, sender_owns_login1 -1), 0 (nothing pending), or -errno. */
int cw_bus_monitor_next(struct cw_bus_monitor *monitor, struct cw_bus_call *call);
/* Asks the bus daemon who `call`'s sender is (its pid, whether it owns
 * logind's name): two round trips, so only for the calls that are intents.
 * Asking for every call let anyone who floods those interfaces with cheap
 * calls (CanReboot) delay an intent's record until its sender was gone. */
void cw_bus_monitor_ask_sender(struct cw_bus_monitor *monitor, struct cw_bus_call *call);
void cw_bus_monitor_close(struct cw_bus_monitor *monitor);

#endif
