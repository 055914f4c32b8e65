# guest: systemd
# guest-kernel: installed
# kernels: 6.1
# kexec, for real, twice. First the guest loads its own installed kernel and
# initramfs (kexec -l) and jumps into it (kexec -e: reboot(2) KEXEC, no
# shutdown); the call is held until its record is durable. The kexec'ed
# kernel reads the store and says kexec, naming kexec and the image. Then it
# loads the image again and asks `systemctl kexec`: an orderly shutdown whose
# PID 1 ends with KEXEC; the next kernel's `last` names systemctl.
# The next kernel keeps this one's scenario and cgroup layout (kexec-cgroup-v1).
load_own_kernel() {
	V=$(uname -r)
	keep=$(tr ' ' '\n' < /proc/cmdline | grep -E '^(rw\.scenario|systemd\.[a-z_]*cgroup[a-z_]*)=' | tr '\n' ' ')
	kexec -l "/boot/vmlinuz-$V" --initrd="/boot/initrd.img-$V" \
		--command-line="console=ttyS0 quiet root=/dev/vda rw rootdelay=10 panic=1 $keep" \
		|| echo "@@RW-FAIL@@ kexec -l failed"
}
phase_0() {
	wait_armed
	load_own_kernel
	sync
	kexec -e
	echo "@@RW-FAIL@@ kexec -e returned $?"
}
phase_1() {
	wait_armed
	section cmdline-1 cat /proc/cmdline
	section last-kexec-e reboot-witness last --json --store "$STORE"
	load_own_kernel
	systemctl kexec
	sleep 300
}
phase_2() {
	wait_armed
	section cmdline cat /proc/cmdline
	report
}
