# guest: systemd
# kernels: 6.1
# smp: 2
# Ctrl-Alt-Del with kernel.ctrl-alt-del = 1: the kernel restarts at once from
# a kworker (ctrl_alt_del → deferred_cad → kernel_restart), no process calls
# reboot(2) and nothing shuts down. deferred_cad waits in the kernel for its
# record (bpf_loop; a second CPU keeps arm running). The next boot says
# reboot / cad, high, with the next boot's file system recovery beside it.
phase_0() {
	wait_armed
	sysctl -q kernel.ctrl-alt-del=1
	host_action "sendkey ctrl-alt-delete"
}
phase_1() {
	report
}
