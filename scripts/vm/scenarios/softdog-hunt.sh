# kernels: 6.1 6.12 sid
# The watchdog hunt: softdog (soft_panic=1, 6 s margin) is fed three times by
# rw-selftest, which then blocks in a pipe read. The controller names the
# starving feeder in a durable record before softdog fires; the fire record's
# bpf_printk line reaches pstore's Panic record through the ftrace dump.
phase_0() {
	insmod /modules/extra/softdog.ko soft_panic=1 soft_margin=6
	arm --reboot2panic --panic-timeout 1
	section status-armed reboot-witness status --json --store "$STORE"
	rw-selftest watchdog-feed --feeds 3 &
	sleep 60
}
phase_1() { report_with_pstore; }
