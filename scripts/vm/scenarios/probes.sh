# kernels: 5.10 6.1 6.12 sid
# One boot: every probe loads and attaches on this kernel, by fentry and by
# the kprobe fallback; safe triggers reach the records.
phase_0() {
	section status-before reboot-witness status --json --store "$STORE"
	arm
	in_container rw-selftest bad-magic
	rw-selftest pidns-restart
	echo h > /proc/sysrq-trigger   # sysrq help: harmless, exercises the sysrq probes
	sleep 1
	section status-armed reboot-witness status --json --store "$STORE"
	disarm
	# Same again with fentry disabled: the kprobe fallback must attach too.
	arm --attach kprobe
	rw-selftest pidns-restart
	sleep 1
	section status-kprobe reboot-witness status --json --store "$STORE"
	disarm
	report
}
