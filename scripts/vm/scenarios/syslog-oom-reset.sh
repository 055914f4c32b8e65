# guest: systemd
# cmdline: systemd.mask=reboot-witness.service
# kernels: 6.1
# Seed 004's end on a RHEL-style host never armed: a service runs out of
# memory (the kernel's OOM killer), then the machine is reset (the monitor's
# system_reset). `last` reads the kernel's lines and the next boot's
# recovery from rsyslog's files: out of memory, then an external reset.
phase_0() {
	systemctl is-active --quiet reboot-witness.service && echo "@@RW-FAIL@@ the witness is armed"
	syslog_only
}
phase_1() {
	# tail keeps a line that never ends: it grows until its cgroup's limit kills it.
	systemd-run --unit=rw-hog -p MemoryMax=24M -p MemorySwapMax=0 tail /dev/zero
	for i in $(seq 1 300); do grep -q 'oom-kill:' /var/log/kern.log && break; sleep 0.2; done
	grep -q 'oom-kill:' /var/log/kern.log || echo "@@RW-FAIL@@ no OOM kill in /var/log/kern.log"
	for i in 1 2 3; do logger -t rw-scenario "last words $i"; done
	sleep 1
	echo "@@RW-MARK@@ $(date -u +%Y-%m-%dT%H:%M:%S)"
	host_action system_reset
}
phase_2() {
	report_syslog_only
}
