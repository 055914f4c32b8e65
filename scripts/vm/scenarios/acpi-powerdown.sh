# kernels: 6.1 6.12
# The hypervisor presses the ACPI power button (monitor system_powerdown,
# like `virsh shutdown`). A minimal power-button handler (what logind or
# acpid do on a real system) powers off; the record names it.
phase_0() {
	for m in evdev button; do
		[ -e /modules/extra/$m.ko ] && insmod /modules/extra/$m.ko
	done
	for dev in /sys/class/input/event*; do
		grep -q 'Power Button' "$dev/device/name" && button=/dev/input/${dev##*/}
	done
	[ -n "$button" ] || { echo "@@RW-FAIL@@ no ACPI power button input device"; poweroff -f; }
	printf '#!/bin/sh\ndd if=%s bs=24 count=1 of=/dev/null 2>/dev/null\npoweroff -f\n' "$button" > /bin/power-button
	chmod +x /bin/power-button
	power-button &
	arm
	host_action system_powerdown
}
phase_1() { report; }
