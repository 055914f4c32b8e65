# guest: systemd trixie
# kernels: 6.12
# systemd's soft reboot (Debian 13, systemd 257): userspace restarts, the
# kernel and the boot id stay, no reboot(2) is called. Asked for from a
# container-like cgroup; then a real `systemctl reboot` by the scenario's
# service. The next boot's `last --list` must show the boot twice: the part
# the soft reboot ended (its requester named) and the rest (the reboot's).
# alice's own `systemctl soft-reboot`, made once PID 1 has the container's
# soft-reboot.target job (logind passed it on; hers is refused; from
# init.scope, which no unit's stop kills) is recorded but not named: the
# soft reboot was queued before she asked.
manager() {
	busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager SoftRebootsCount
	systemctl show reboot-witness -p MainPID -p NRestarts
}
phase_0() {
	wait_armed
	section before manager
	id alice >/dev/null 2>&1 || useradd -m -s /bin/sh alice
	sh -c 'echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
		until systemctl list-jobs --no-legend | grep -q soft-reboot.target; do sleep 0.05; done
		sleep 0.3
		exec runuser -u alice -- systemctl soft-reboot' >/dev/console 2>&1 &
	in_container systemctl soft-reboot
	sleep 300
}
phase_1() {
	wait_armed
	section after manager
	section finished journalctl -b 0 _PID=1 --grep='^Soft-reboot finished' -o json --no-pager
	section list-soft reboot-witness last --list --json --store "$STORE"
	section session reboot-witness last --boot 0/0 --json --store "$STORE"
	# Restarted now (an upgrade would): it adopts the pinned capture and asks PID 1 for the count.
	systemctl restart reboot-witness
	wait_armed
	section status-rearmed reboot-witness status --json --store "$STORE"
	section dump-rearmed reboot-witness dump --store "$STORE" --boot all
	systemctl reboot
	sleep 300
}
phase_2() {
	wait_armed
	section list reboot-witness last --list --json --store "$STORE"
	section session-prev reboot-witness last --boot 1/0 --json --store "$STORE"
	section list-human reboot-witness last --list --store "$STORE"
	report
}
