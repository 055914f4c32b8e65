/* logind inhibitors (org.freedesktop.login1.Manager.Inhibit) through sd-bus. */
#ifndef CINHIBIT_H
#define CINHIBIT_H

/* Takes an inhibitor lock: `what` ("shutdown"), `who`, `why`, `mode`
 * ("block" or "delay"). Returns the lock's file descriptor (the lock lasts
 * until it is closed), or a negative errno with logind's or sd-bus's reason
 * in `message`. */
int cw_logind_inhibit(const char *what, const char *who, const char *why, const char *mode,
		      char *message, int message_size);

#endif
