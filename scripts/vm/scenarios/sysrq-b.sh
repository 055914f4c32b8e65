# kernels: 6.1 sid
# sysrq 'b': emergency_restart from the writer's context, no shutdown path.
# The controller cannot outlive it; ramoops (max_reason=4) keeps the kernel
# log of the dying boot, which the report lists.
phase_0() {
	arm
	echo "rw-guest: sysrq-b from pid $$" > /dev/kmsg
	in_container sh -c 'echo b > /proc/sysrq-trigger'
	sleep 30
}
phase_1() { report_with_pstore; }
