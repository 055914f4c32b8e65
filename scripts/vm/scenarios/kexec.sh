# guest: systemd
# guest-kernel: installed
# kernels: 6.1
# kexec, for real: the guest loads its own installed kernel and initramfs
# (kexec -l) and jumps into it (kexec -e: reboot(2) KEXEC, no shutdown).
# The call is held until its record is durable; the kexec'ed kernel boots
# the same root, reads the store and says kexec, naming the caller.
phase_0() {
	wait_armed
	V=$(uname -r)
	kexec -l "/boot/vmlinuz-$V" --initrd="/boot/initrd.img-$V" \
		--command-line="console=ttyS0 quiet root=/dev/vda rw rootdelay=10 panic=1 rw.scenario=kexec" \
		|| echo "@@RW-FAIL@@ kexec -l failed"
	sync
	kexec -e
	echo "@@RW-FAIL@@ kexec -e returned $?"
}
phase_1() {
	section cmdline cat /proc/cmdline
	report
}
