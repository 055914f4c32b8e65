# kernels: 6.1
# reboot(2) POWER_OFF from a child in a container-like cgroup. QEMU exits on
# power-off; the host boots the same disk again for the reporting phase.
phase_0() {
	arm
	in_container poweroff -f
	sleep 30
}
phase_1() { report; }
