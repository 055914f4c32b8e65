# 20 consecutive boots each ended by `reboot -f` from a container-like
# cgroup under the hold; the 21st reports. Every record must have survived.
for n in $(seq 0 19); do
	eval "phase_$n() { arm; in_container reboot -f; sleep 30; }"
done
phase_20() { report; }
