# guest: systemd
# kernels: 6.12
# Ctrl-Alt-Del as systemd hosts have it (kernel.ctrl-alt-del = 0): the
# monitor's `sendkey ctrl-alt-delete` reaches the kernel's keyboard handler,
# ctrl_alt_del() signals PID 1, systemd starts ctrl-alt-del.target and
# reboots. The next boot says reboot / cad, high: the key, not an unnamed
# graceful reboot.
phase_0() {
	wait_armed
	[ "$(cat /proc/sys/kernel/ctrl-alt-del)" = 0 ] || echo "@@RW-FAIL@@ kernel.ctrl-alt-del is not 0 under systemd"
	host_action "sendkey ctrl-alt-delete"
}
phase_1() {
	report
}
