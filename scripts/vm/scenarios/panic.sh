# kernels: 5.10 6.1 6.12 sid
# sysrq 'c' with panic=1 on the kernel command line: a kernel panic, then a
# reset after one second. pstore keeps the Panic record; our kprobe on
# panic() fired first.
phase_0() {
	arm
	in_container sh -c 'echo c > /proc/sysrq-trigger'
	sleep 30
}
phase_1() { report_with_pstore; }
