# guest: systemd
# guest-kernel: installed
# kernels: 5.10 6.1
# cmdline: systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1
# `systemctl kexec` on a host laid out as CentOS 7's: cgroup v1 only, no
# unified hierarchy, no memory accounting (a unit's memory cgroup is the
# root), and a witness without its D-Bus monitor (systemd 219's libsystemd
# exports no sd-bus). Only the cgroups the kernel records tell the caller's
# systemctl from the `systemctl --force kexec` that systemd-kexec.service
# runs for PID 1; both are root's and run by a service. The next kernel's
# `last` names the caller, in rw-scenario.service by systemd's own v1
# hierarchy (name=systemd).
. /usr/local/lib/rw/scenarios/kexec.sh
phase_0() {
	wait_armed
	# systemd 219's default: no memory accounting, so a unit's memory cgroup is the root.
	mkdir -p /etc/systemd/system.conf.d
	printf '[Manager]\nDefaultMemoryAccounting=no\n' > /etc/systemd/system.conf.d/rw-centos7.conf
	systemctl daemon-reexec
	section cgroups sh -c 'stat -fc %T /sys/fs/cgroup; systemd-run --quiet --wait --pipe cat /proc/self/cgroup'
	mkdir -p /etc/systemd/system/reboot-witness.service.d
	printf '[Service]\nExecStart=\nExecStart=@/usr/sbin/reboot-witness @reboot-witness arm --store %s --keep-capture-on-exit --no-dbus\n' \
		"$STORE" > /etc/systemd/system/reboot-witness.service.d/no-dbus.conf
	systemctl daemon-reload
	systemctl restart reboot-witness  # Type=notify: returns once armed again
	load_own_kernel
	systemctl kexec
	sleep 300
}
phase_1() {
	for i in $(seq 1 600); do systemctl is-active --quiet reboot-witness && break; sleep 0.2; done
	section cmdline cat /proc/cmdline
	report
}
