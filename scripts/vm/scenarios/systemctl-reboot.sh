# guest: systemd
# smp: 2
# kernels: 5.10 6.1 6.12 sid
# A graceful `systemctl reboot` typed inside a container-like cgroup of a
# systemd machine: reboot(2) comes from PID 1 (systemd-shutdown) long after;
# `last` must name the systemctl in the container as the initiator, and
# PID 1's own reboot(2) must be in the store (the final stage), linked to it.
phase_0() {
	wait_armed
	in_container systemctl reboot
	sleep 300
}
phase_1() {
	wait_armed
	# The end of the last boot's kernel log (ramoops console, or systemd-pstore's
	# archive of it): did systemd-shutdown get / read-only with arm alive?
	section shutdown-log sh -c 'find /sys/fs/pstore /var/lib/systemd/pstore -name "*ramoops*" -exec cat {} + 2>/dev/null |
		grep -a -E "systemd-shutdown\[1\]|reboot-witness: final|EXT4-fs"; dmesg | grep -E "EXT4-fs \(vda"'
	# Structured journal entries: the records taken before the reboot, the verdict logged at this start.
	section journal-record journalctl -b -1 MESSAGE_ID=b1f7528de1a645298eb16b5baa51deea -o json --no-pager
	section journal-verdict journalctl -b 0 MESSAGE_ID=5e049ba2966c447d96ffa8689a1f09d3 -o json --no-pager
	section journal-catalog journalctl -b 0 -x MESSAGE_ID=5e049ba2966c447d96ffa8689a1f09d3 --no-pager
	report
}
