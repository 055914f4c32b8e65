# kernels: 6.1 6.12
# arm --reboot2panic: `reboot -f` from a container-like cgroup is held, made
# durable, named in the kernel log, then turned into a panic (sysrq c), so
# pstore keeps a Panic record naming the culprit.
phase_0() {
	arm --reboot2panic --panic-timeout 1
	section sysctls-armed sh -c 'cat /proc/sys/kernel/panic /proc/sys/kernel/ftrace_dump_on_oops'
	in_container reboot -f
	sleep 30
}
phase_1() { report_with_pstore; }
