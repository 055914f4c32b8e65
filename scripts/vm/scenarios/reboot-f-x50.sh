# kernels: 6.1
# 50 consecutive boots each ended by `reboot -f` from a container-like
# cgroup under the hold; the 51st reports. Every record must have survived.
# Each next boot prints the hold's added delay, which the controller logged
# just before replaying and the kernel's shutdown dump kept in pstore.
# Extended (about 15 minutes under TCG): not in the default set.
for n in $(seq 0 49); do
	eval "phase_$n() { section held-$n pstore_held; arm; in_container reboot -f; sleep 30; }"
done
phase_50() { section held-50 pstore_held; report; }
