# kernels: 6.1 6.12
# 20 consecutive boots each ended by `reboot -f` from a container-like
# cgroup under the hold; the 21st reports. Every record must have survived.
# Each next boot prints the hold's added delay, which the controller logged
# just before replaying and the kernel's shutdown dump kept in pstore.
for n in $(seq 0 19); do
	eval "phase_$n() { section held-$n pstore_held; arm; in_container reboot -f; sleep 30; }"
done
phase_20() { section held-20 pstore_held; report; }
