# guest: systemd
# kernels: 6.12
# Root poses as logind to blame someone else. alice's `systemctl reboot` is
# refused (no rule lets her). Then root moves a process into logind's cgroup,
# drops its login uid and asks systemd for reboot.target over the bus, as
# logind passes a request on. Everything /proc says reads "logind"; the bus
# says logind's name is another connection's. `last` must name root's
# busctl, not alice.
phase_0() {
	wait_armed
	id alice >/dev/null 2>&1 || useradd -m -s /bin/sh alice
	section alice sh -c 'runuser -u alice -- systemctl reboot 2>&1; echo "exit $?"'
	sleep 1
	section impostor sh -c 'echo $$ > /sys/fs/cgroup/system.slice/systemd-logind.service/cgroup.procs &&
		{ echo 4294967295 > /proc/self/loginuid 2>/dev/null || true; } &&
		echo "loginuid $(cat /proc/self/loginuid) cgroup $(cat /proc/self/cgroup)" &&
		exec busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager \
			StartUnit ss reboot.target replace-irreversibly'
	sleep 300
}
phase_1() {
	wait_armed
	report
}
