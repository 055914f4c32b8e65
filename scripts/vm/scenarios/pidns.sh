# kernels: 6.1 6.12
# reboot(RESTART) from the init of a new user+PID namespace: recorded, and
# only that namespace dies; the machine stays up (one boot).
phase_0() {
	arm
	section pidns rw-selftest pidns-restart
	sleep 1
	disarm
	report
}
