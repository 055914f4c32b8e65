# kernels: 6.1
# reboot(2) RESTART2 with an argument string, from a container-like cgroup.
phase_0() {
	arm
	in_container guest-reboot restart2 rescue-mode
	sleep 30
}
phase_1() { report; }
