# guest: systemd
# cmdline: systemd.mask=reboot-witness.service
# kernels: 6.1
# A hard reset (the monitor's system_reset) of a host where the witness
# was never armed: `last` says hard_reset from the journal ending with no
# shutdown sequence and the next boot's recovery lines, with the last sign
# of life.
phase_0() {
	systemctl is-active --quiet reboot-witness.service && echo "@@RW-FAIL@@ the witness is armed"
	for i in 1 2 3; do logger -t rw-scenario "last words $i"; done
	journalctl --sync
	echo "@@RW-MARK@@ $(date -u +%Y-%m-%dT%H:%M:%S)"
	host_action system_reset
}
phase_1() {
	report_never_armed
}
