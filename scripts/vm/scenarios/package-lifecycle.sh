# guest: systemd
# kernels: 6.1
# The .deb's life on a systemd machine. The image was built with `dpkg -i`
# (no hand-copied binary or unit): the unit is enabled and arms at boot.
# An upgrade (dpkg -i of a newer version) restarts it once and keeps the
# store, and calls made during the restart are all stored (the pinned
# capture bridges it); dpkg -r stops it and leaves no BPF program or link
# behind; dpkg --purge removes the store.
phase_0() {
	wait_armed
	section armed-at sh -c 'journalctl -b -u reboot-witness.service -o short-monotonic --no-pager | grep -m1 " armed:"'
	section before-upgrade reboot-witness status --json
	section record-before sh -c 'rw-selftest bad-magic'
	sleep 1
	section programs-armed sh -c 'bpftool prog show | grep -o "name [a-z_0-9]*" | sort -u'
	( for i in $(seq 1 60); do rw-selftest bad-magic > /dev/null; sleep 0.1; done; touch /run/rw-calls-done ) &
	section upgrade dpkg -i /usr/local/lib/rw/upgrade.deb
	wait_armed
	while [ ! -e /run/rw-calls-done ]; do sleep 0.2; done
	sleep 1
	section after-upgrade reboot-witness status --json
	section dump-after-upgrade reboot-witness dump --json --boot current
	section remove dpkg -r reboot-witness
	section after-remove sh -c 'systemctl is-active reboot-witness.service; bpftool prog show | grep -o "name [a-z_0-9]*" | sort -u; echo "links:"; bpftool link show | grep -c . ; echo "pins:"; ls -A /sys/fs/bpf; echo "store:"; ls /var/lib/reboot-witness'
	section purge dpkg --purge reboot-witness
	section after-purge sh -c 'ls /var/lib/reboot-witness 2>&1; command -v reboot-witness || echo "no binary"'
	echo "@@RW-DONE@@"
	sync
	systemctl poweroff
	sleep 300
}
