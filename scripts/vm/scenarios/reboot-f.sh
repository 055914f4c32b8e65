# kernels: 5.10 6.1 6.12 sid
# busybox `reboot -f` from a child in a container-like cgroup.
phase_0() {
	arm
	in_container reboot -f
	sleep 30
}
phase_1() { report; }
