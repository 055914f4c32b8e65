# guest: systemd
# cmdline: systemd.mask=reboot-witness.service
# kernels: 6.12
# Seed 003 on a host where the witness was never armed: alice logs in by
# ssh (loopback) and runs `sudo reboot`. After the reboot, `last` names her,
# her tty and her ssh client from the journal alone, confidence medium.
phase_0() {
	systemctl is-active --quiet reboot-witness.service && echo "@@RW-FAIL@@ the witness is armed"
	login_user
	ssh -o StrictHostKeyChecking=no -o BatchMode=yes -tt -i /root/.ssh/id_ed25519 alice@127.0.0.1 'sudo reboot; sleep 60'
	sleep 300
}
phase_1() {
	report_never_armed
}
