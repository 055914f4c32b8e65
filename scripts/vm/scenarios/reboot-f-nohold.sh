# kernels: 6.12
# `reboot -f` with `arm --no-hold`: only the race between the ring buffer
# reader and the reset decides whether the record survives (reported).
phase_0() {
	arm --no-hold
	in_container reboot -f
	sleep 30
}
phase_1() { report; }
