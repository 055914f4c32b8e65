# guest: systemd
# cmdline: systemd.mask=reboot-witness.service
# kernels: 6.1
# Seed 003 on a RHEL-style host never armed: the journal is volatile, rsyslog
# keeps the text files. alice logs in by ssh and runs `sudo reboot`; `last`
# names her, her tty and her ssh client from /var/log/auth.log, as a claim
# (a text log keeps no writer: never high), with file:line.
phase_0() {
	systemctl is-active --quiet reboot-witness.service && echo "@@RW-FAIL@@ the witness is armed"
	syslog_only
}
phase_1() {
	login_user
	ssh -o StrictHostKeyChecking=no -o BatchMode=yes -tt -i /root/.ssh/id_ed25519 alice@127.0.0.1 'sudo reboot; sleep 60'
	sleep 300
}
phase_2() {
	report_syslog_only
}
