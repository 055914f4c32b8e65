# smp: 2
# kernels: 6.1 6.12
# A reproducer without reboot-witness: on the second vCPU a loop of
# syscalls, on the first the syscall tracepoints switched on and off 400
# times (each switch flips static keys: the kernel patches its own text
# with int3 breakpoints, text_poke_bp). If the kernel oopses or locks up
# here, the cause is the emulator or the kernel, not our programs.
phase_0() {
	(while :; do cat /proc/self/stat > /dev/null; done) &
	LOOP=$!
	events=/sys/kernel/tracing/events/syscalls
	for i in $(seq 1 400); do
		echo 1 > $events/sys_enter_reboot/enable
		echo 1 > $events/sys_exit_reboot/enable
		echo 0 > $events/sys_enter_reboot/enable
		echo 0 > $events/sys_exit_reboot/enable
	done
	kill $LOOP
	section toggles echo 1600
	echo "@@RW-DONE@@"
	poweroff -f
}
