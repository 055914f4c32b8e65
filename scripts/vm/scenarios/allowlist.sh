# kernels: 6.1
# `arm --allow-exe`: a fencing agent's reboot(2) is never held, even with the
# controller alive (the caller sees no EPERM).
phase_0() {
	arm --allow-exe /bin/guest-reboot
	in_container guest-reboot restart
	sleep 30
}
phase_1() { report; }
