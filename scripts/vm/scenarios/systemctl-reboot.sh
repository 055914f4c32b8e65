# guest: systemd
# A graceful `systemctl reboot` typed inside a container-like cgroup of a
# systemd machine: reboot(2) comes from PID 1 (systemd-shutdown) long after;
# `last` must name the systemctl in the container as the initiator.
phase_0() {
	wait_armed
	in_container systemctl reboot
	sleep 300
}
phase_1() {
	wait_armed
	report
}
