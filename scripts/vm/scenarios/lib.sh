# Helpers shared by the guest scenarios.
STORE=/state/store

# Starts `arm` in the background and waits for its "armed" line.
arm() {
	# Emptied here, not by the background job's redirection: the loop below
	# could otherwise find the previous arm's "armed" line before that runs.
	: > /state/arm.out
	: > /state/arm.err
	reboot-witness arm --store "$STORE" --json "$@" >> /state/arm.out 2>> /state/arm.err &
	ARM_PID=$!
	for i in $(seq 1 600); do
		grep -q '^armed' /state/arm.err 2>/dev/null && { cat /state/arm.err; return 0; }
		kill -0 $ARM_PID 2>/dev/null || break
		sleep 0.1
	done
	echo "@@RW-FAIL@@ arm did not arm"; cat /state/arm.err; poweroff -f
}

disarm() {
	kill -TERM $ARM_PID
	wait $ARM_PID
}

# A cgroup that looks like a docker container's, for attribution checks.
CONTAINER_ID=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
container_cgroup() {
	dir=/sys/fs/cgroup/system.slice/docker-$CONTAINER_ID.scope
	mkdir -p "$dir"
	echo "$dir"
}

# Runs "$@" in the container-like cgroup, as a child of this shell.
in_container() {
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$(container_cgroup)" "$@"
}

# Prints a named section the host parses.
section() {
	echo "@@RW-BEGIN $1@@"
	shift
	"$@"
	echo "@@RW-END@@"
}

# The last phase: everything the host asserts on, then power off.
report() {
	section dump reboot-witness dump --store "$STORE" --json --boot all
	section dump-human reboot-witness dump --store "$STORE" --boot all
	section status reboot-witness status --json --store "$STORE"
	section last reboot-witness last --json --store "$STORE"
	section pstore ls /sys/fs/pstore
	echo "@@RW-DONE@@"
	sync
	poweroff -f
}

# Asks the host to act on the VM through the QEMU monitor, then waits.
host_action() {
	sync
	echo "@@RW-HOST $1@@"
	sleep 60
}

# Header and the telling lines of each pstore dmesg record of the last boot.
pstore_lines() {
	for f in /sys/fs/pstore/dmesg-ramoops-*; do
		[ -e "$f" ] || continue
		echo "== $f"
		head -n 1 "$f"
		grep -a -E 'sysrq|rw-guest|Kernel panic|Resetting|Restarting|reboot' "$f" | tail -n 40
	done
}

# The held-delay lines of the last boot's shutdown dump, then forget the
# dumps (the next boot reads only its predecessor's).
pstore_held() {
	grep -h -a -o 'reboot-witness: record durable, replaying.*' /sys/fs/pstore/dmesg-ramoops-* 2>/dev/null
	rm -f /sys/fs/pstore/dmesg-ramoops-*
}

# After a boot the controller could not outlive: what pstore kept, then arm
# once (it harvests pstore into the store, tagged with the ended boot).
report_with_pstore() {
	section pstore-records pstore_lines
	arm
	disarm
	report
}
