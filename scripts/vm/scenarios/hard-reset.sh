# kernels: 5.10 6.1
# The hypervisor resets the VM (monitor system_reset): no shutdown path runs.
phase_0() {
	arm
	host_action system_reset
}
phase_1() { report; }
