# kernels: 6.1 6.12
# What the hold costs every capability check: setuid(0) loops (one
# security_capable() each) with no hold, with the BPF LSM hook and with
# fmod_ret on security_capable, alternated so drift hits all three alike.
bench() {
	rw-selftest capable-loop --count 100000 | sed "s/^/$1 /"
}

capable_rounds() {
	for round in 1 2 3 4 5; do
		bench none
		arm --hold-via bpf-lsm && bench bpf-lsm && disarm
		arm --hold-via fmod_ret && bench fmod_ret && disarm
	done
}

phase_0() {
	section capable capable_rounds
	report
}
