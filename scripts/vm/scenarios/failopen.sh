# kernels: 6.1 6.12
# The controller is SIGKILLed; within a second its heartbeat is stale and
# `reboot -f` goes through unhindered (a denied systemd-shutdown would freeze).
phase_0() {
	arm
	kill -KILL $ARM_PID
	sleep 2
	in_container reboot -f
	echo "@@RW-FAIL@@ reboot -f was still blocked with the controller dead"
	poweroff -f
}
phase_1() { report; }
