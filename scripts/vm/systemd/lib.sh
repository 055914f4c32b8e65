# Helpers of the systemd guest's scenarios (the witness runs as the
# reboot-witness.service unit, on its default store).
STORE=/var/lib/reboot-witness

section() {
	echo "@@RW-BEGIN $1@@"
	shift
	# Through a pipe: on the serial console (StandardOutput=tty) systemd's
	# tools would colour their JSON.
	"$@" | cat
	echo "@@RW-END@@"
}

# Until the unit is armed and its D-Bus monitor is on the system bus.
wait_armed() {
	for i in $(seq 1 600); do
		reboot-witness status --json --store "$STORE" 2>/dev/null | grep -q '"dbus":{"active":true' && return 0
		sleep 0.2
	done
	echo "@@RW-FAIL@@ reboot-witness.service did not arm"
	systemctl status reboot-witness --no-pager
	systemctl poweroff
	sleep 300
}

CONTAINER_ID=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
in_container() {
	dir=/sys/fs/cgroup/system.slice/docker-$CONTAINER_ID.scope
	mkdir -p "$dir"
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

report() {
	section dump reboot-witness dump --store "$STORE" --json --boot all
	section dump-human reboot-witness dump --store "$STORE" --boot all
	section last reboot-witness last --json --store "$STORE"
	section status reboot-witness status --json --store "$STORE"
	echo "@@RW-DONE@@"
	sync
	systemctl poweroff
	sleep 300  # systemctl returns at once; the shutdown takes over
}

# Asks the host to act on the VM through the QEMU monitor (a command such
# as system_reset or "sendkey ctrl-alt-delete"), then waits.
host_action() {
	sync
	echo "@@RW-HOST $*@@"
	sleep 120
}

# A user who logs in by ssh on loopback with a key, and may sudo without a password.
login_user() {
	id alice >/dev/null 2>&1 || useradd -m -s /bin/sh alice
	echo 'alice ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/alice
	mkdir -p /root/.ssh /home/alice/.ssh
	[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519
	cp /root/.ssh/id_ed25519.pub /home/alice/.ssh/authorized_keys
	chown -R alice:alice /home/alice/.ssh
	systemctl start ssh.service
	for i in $(seq 1 100); do ssh-keyscan -t ed25519 127.0.0.1 >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "@@RW-FAIL@@ sshd did not come up"
	systemctl poweroff
	sleep 300
}

# The last phase of a scenario where the witness was never armed: `last` and `last --list` only.
report_never_armed() {
	section last reboot-witness last --json
	section last-human reboot-witness last
	section last-list reboot-witness last --list --json
	section store sh -c 'ls /var/lib/reboot-witness 2>&1 || true'
	echo "@@RW-DONE@@"
	sync
	systemctl poweroff
	sleep 300
}

# A RHEL-style host: journald keeps nothing across a boot (Storage=volatile,
# as RHEL ships it) and forwards to rsyslog, whose text files do. Reboots.
syslog_only() {
	mkdir -p /etc/systemd/journald.conf.d
	printf '[Journal]\nStorage=volatile\nForwardToSyslog=yes\n' > /etc/systemd/journald.conf.d/rw-volatile.conf
	systemctl restart systemd-journald
	rm -rf /var/log/journal
	systemctl enable --quiet rsyslog
	systemctl restart rsyslog
	for i in $(seq 1 100); do grep -q 'Linux version' /var/log/kern.log 2>/dev/null && break; sleep 0.2; done
	grep -q 'Linux version' /var/log/kern.log || echo "@@RW-FAIL@@ rsyslog kept no boot start in /var/log/kern.log"
	# The boot judged is the next one, with rsyslog running from its start as on such a host.
	sync
	systemctl reboot
	sleep 300
}

# The last phase of a syslog-only scenario: what the journal has, the files, then `last`.
report_syslog_only() {
	section journal-boots journalctl --list-boots --no-pager
	section syslog-files ls -l /var/log
	report_never_armed
}
