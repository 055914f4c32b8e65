# guest: systemd
# guest-kernel: installed
# kernels: 6.1
# Seed 002 in a systemd guest with Debian's kernel package installed (its
# initramfs built by initramfs-tools). preflight passes; kmod breaks (a depmod
# that writes nothing) and the image is rebuilt without modules.dep and
# without virtio_blk: preflight fails and names it, arm notices by itself,
# and with --block-bad-reboot `systemctl reboot` is refused with the reason.
# The host then boots that image (as a boot loader would): root never
# mounts. The next good boot's `last` names the failed attempt.
phase_0() {
	wait_armed
	V=$(uname -r)
	# arm with --block-bad-reboot, as an administrator would configure it.
	mkdir -p /etc/systemd/system/reboot-witness.service.d
	printf '[Service]\nExecStart=\nExecStart=@/usr/sbin/reboot-witness @reboot-witness arm --store /var/lib/reboot-witness --keep-capture-on-exit --block-bad-reboot\n' \
		> /etc/systemd/system/reboot-witness.service.d/block.conf
	systemctl daemon-reload
	systemctl restart reboot-witness
	wait_armed
	section preflight-good sh -c 'reboot-witness preflight --json; echo "exit=$?"'
	mv /usr/sbin/depmod /usr/sbin/depmod.real
	printf '#!/bin/sh\nexit 0\n' > /usr/sbin/depmod
	chmod +x /usr/sbin/depmod
	: > /lib/modules/$V/modules.dep
	rm -f /lib/modules/$V/modules.dep.bin
	section regenerate sh -c "update-initramfs -u -k $V 2>&1; ls -l /boot"
	section preflight-bad sh -c 'reboot-witness preflight --json; echo "exit=$?"'
	# arm looks at the boot files every 5 s and runs preflight when they change.
	for i in $(seq 1 60); do
		reboot-witness status --json --store "$STORE" | grep -q '"inhibitor":{"active":true' && break
		sleep 1
	done
	section status reboot-witness status --json --store "$STORE"
	section inhibited sh -c 'systemctl --check-inhibitors=yes reboot 2>&1; echo "exit=$?"'
	echo "@@RW-BOOT-OWN $V@@"
	sync
	# root may override the inhibitor; arm records the intent and runs preflight once more.
	systemctl --check-inhibitors=no reboot
	sleep 300
}
phase_1() {
	wait_armed
	# The preflight arm runs at start (on the same broken image) first: `last` compares both.
	for i in $(seq 1 60); do
		reboot-witness dump --json --store "$STORE" --boot current | grep -q "\"trigger\":\"arm started\"" && break
		sleep 1
	done
	section last reboot-witness last --json --store "$STORE"
	section last-list reboot-witness last --list --store "$STORE"
	section dump reboot-witness dump --json --store "$STORE" --boot all
	echo "@@RW-DONE@@"
	sync
	systemctl poweroff
	sleep 300
}
