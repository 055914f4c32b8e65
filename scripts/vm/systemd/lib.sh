# Helpers of the systemd guest's scenarios (the witness runs as the
# reboot-witness.service unit, on its default store).
STORE=/var/lib/reboot-witness

section() {
	echo "@@RW-BEGIN $1@@"
	shift
	"$@"
	echo "@@RW-END@@"
}

# Until the unit is armed and its D-Bus monitor is on the system bus.
wait_armed() {
	for i in $(seq 1 600); do
		reboot-witness status --json --store "$STORE" 2>/dev/null | grep -q '"dbus" *: *"monitoring' && return 0
		sleep 0.2
	done
	echo "@@RW-FAIL@@ reboot-witness.service did not arm"
	systemctl status reboot-witness --no-pager
	systemctl poweroff
	sleep 300
}

CONTAINER_ID=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
in_container() {
	dir=/sys/fs/cgroup/system.slice/docker-$CONTAINER_ID.scope
	mkdir -p "$dir"
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

report() {
	section dump reboot-witness dump --store "$STORE" --json --boot all
	section dump-human reboot-witness dump --store "$STORE" --boot all
	section last reboot-witness last --json --store "$STORE"
	section status reboot-witness status --json --store "$STORE"
	echo "@@RW-DONE@@"
	sync
	systemctl poweroff
	sleep 300  # systemctl returns at once; the shutdown takes over
}
