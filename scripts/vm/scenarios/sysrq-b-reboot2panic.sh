# kernels: 6.1
# sysrq 'b' under arm --reboot2panic on a kernel booted with tp_printk: the
# emergency restart cannot be held or turned into a panic, but the BPF
# programs' bpf_printk lines reach the kernel log as it happens, so the
# Emergency pstore record names the writer of /proc/sysrq-trigger.
# cmdline: tp_printk
phase_0() {
	arm --reboot2panic --panic-timeout 1
	section status-armed reboot-witness status --json --store "$STORE"
	in_container sh -c 'echo b > /proc/sysrq-trigger'
	sleep 30
}
phase_1() { report_with_pstore; }
