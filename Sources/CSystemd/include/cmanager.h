/* What systemd's manager (PID 1) says of itself, through sd-bus. */
#ifndef CMANAGER_H
#define CMANAGER_H

/* org.freedesktop.systemd1.Manager's SoftRebootsCount (systemd 256+): the
 * soft reboots since the kernel booted. Asked over PID 1's private socket
 * (/run/systemd/private: root only, up before dbus-daemon), waiting at most
 * 1 s. Returns 0 with *count set, or a negative errno with the reason in
 * `message` (-ENOENT: no libsystemd, -EBADR-like sd-bus errors: a systemd
 * without the property). */
int cw_systemd_soft_reboots(unsigned *count, char *message, int message_size);

#endif
