# guest: systemd
# kernels: 6.1 6.12
# acpi-table: thermal-critical
# Thermal protection, for real: an ACPI thermal zone (an SSDT given to QEMU)
# passes its critical trip at 75 s of uptime; the kernel's ACPI thermal
# driver calls the hardware-protection shutdown with "Temperature too high",
# orderly_poweroff runs /sbin/poweroff, systemd powers off. The next boot
# (without the zone) says poweroff / thermal, high, from the witness's record
# of the kernel path and its reason string.
phase_0() {
	wait_armed
	sleep 170
	echo "@@RW-FAIL@@ no thermal shutdown by $(cut -d' ' -f1 /proc/uptime) s of uptime"
}
phase_1() {
	section kernel-log sh -c 'journalctl -k -b -1 --no-pager -o cat | grep -E "critical temperature|HARDWARE PROTECTION" || true'
	report
}
