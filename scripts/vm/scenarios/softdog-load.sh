# kernels: 6.1 sid
# softdog loaded after `arm` started: the module_load tracepoint makes the
# controller attach softdog_fire then. Nobody opens /dev/watchdog, so it
# never fires.
phase_0() {
	arm
	insmod /modules/extra/softdog.ko soft_margin=3600
	sleep 3
	section status-after-load reboot-witness status --json --store "$STORE"
	disarm
	report
}
