# kernels: 6.12
# busybox `reboot -f` from a container-like cgroup while two processes flood
# reboot(2) with refused calls, a new comm on every call: the reboot is held,
# stored and replayed all the same; the flood is counted, not recorded.
phase_0() {
	arm
	rw-selftest flood --workers 2 --seconds 120 --new-comm > /dev/null &
	sleep 5
	section flood-status reboot-witness status --json --store "$STORE"
	in_container reboot -f
	sleep 60
}
phase_1() { report; }
