# kernels: 5.10 6.1 6.12 sid
# The hold through fmod_ret on security_capable (for kernels whose active
# LSMs lack bpf, e.g. Ubuntu's default), forced here with --hold-via.
phase_0() {
	arm --hold-via fmod_ret
	in_container reboot -f
	sleep 30
}
phase_1() { report; }
