# kernels: 6.12
# reboot(2) HALT: the CPU stops; the host notices "System halted" and boots
# the disk again for the report.
phase_0() {
	arm
	in_container guest-reboot halt
	sleep 30
}
phase_1() { report; }
