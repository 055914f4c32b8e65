# busybox `reboot -f` from a child in a container-like cgroup.
phase_0() {
	arm
	in_container reboot -f
	sleep 30
}
phase_1() { report; }
