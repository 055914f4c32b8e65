# kernels: 6.1
# qemu-device: ipmi-bmc-sim,id=bmc0
# qemu-device: isa-ipmi-kcs,bmc=bmc0
# The BMC's watchdog resets the machine: QEMU's simulated BMC (it lives in
# QEMU, so its SEL and its watchdog's flags outlive the guest's reset) is
# armed by the kernel's ipmi_watchdog (start_now, 10 s, hard reset) and
# never fed. No shutdown path runs. The next boot's `last` reads the BMC
# through /dev/ipmi0 and says hard_reset / bmc_watchdog.
ipmi_up() {
	for m in ipmi_msghandler ipmi_si ipmi_devintf; do insmod /modules/extra/$m.ko || echo "insmod $m failed"; done
	for i in $(seq 1 100); do [ -e /dev/ipmi0 ] && return 0; sleep 0.1; done
	echo "@@RW-FAIL@@ no /dev/ipmi0 (ipmi_si found no BMC)"
	poweroff -f
}
phase_0() {
	ipmi_up
	arm
	insmod /modules/extra/ipmi_watchdog.ko timeout=10 pretimeout=0 action=reset start_now=1 nowayout=1
	sleep 90
	echo "@@RW-FAIL@@ the BMC's watchdog did not reset the machine"
}
phase_1() {
	ipmi_up
	section bmc-last reboot-witness last --store "$STORE"
	report
}
