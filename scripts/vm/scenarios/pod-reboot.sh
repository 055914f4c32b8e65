# guest: systemd
# kernels: 6.1
# Seed 000 with the kubelet's layout: a process in a pod's container cgroup
# (systemd driver: kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope),
# with the kubelet's log directories for that pod, calls `reboot -f`. The
# witness names the pod while it exists; after the reboot, when no pod is
# left to ask about, `last` says reboot,container,pod=<namespace>/<pod>.
POD_UID=6f0c2b1e-9d3a-4c55-8e71-2a9b4f6d0c13
POD_CONTAINER=4b1d5eed4b1d5eed4b1d5eed4b1d5eed4b1d5eed4b1d5eed4b1d5eed4b1d5eed
phase_0() {
	wait_armed
	pod=/var/log/pods/kube-system_node-rebooter-7d9f8_$POD_UID
	mkdir -p "$pod/rebooter" /var/log/containers
	echo '2026-12-04T10:00:00.000000000Z stdout F about to reboot the node' > "$pod/rebooter/0.log"
	ln -sf "$pod/rebooter/0.log" "/var/log/containers/node-rebooter-7d9f8_kube-system_rebooter-$POD_CONTAINER.log"
	slice=/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$(echo $POD_UID | tr - _).slice
	dir=$slice/cri-containerd-$POD_CONTAINER.scope
	mkdir -p "$dir"
	# arm reads the kubelet's directories every 10 s.
	sleep 12
	sync
	sh -c 'echo $$ > "$0/cgroup.procs" && exec reboot -f' "$dir"
	sleep 60
}
phase_1() {
	report
}
