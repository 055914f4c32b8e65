/*
 * guest-reboot: reboot(2) with any command, for the QEMU suite only. vm-test
 * compiles it into the guest initramfs; it is never built by `swift build`
 * and refuses to run outside a reboot-witness test guest.
 *
 *   guest-reboot restart2 ARG | halt | poweroff | restart
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/reboot.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	char cmdline[4096] = {0};
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f || !fread(cmdline, 1, sizeof(cmdline) - 1, f) || !strstr(cmdline, "rw.scenario=")) {
		fprintf(stderr, "guest-reboot: not a reboot-witness test guest; refusing\n");
		return 2;
	}
	fclose(f);
	sync();
	if (argc == 3 && strcmp(argv[1], "restart2") == 0)
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART2, argv[2]);
	else if (argc == 2 && strcmp(argv[1], "halt") == 0)
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_HALT, NULL);
	else if (argc == 2 && strcmp(argv[1], "poweroff") == 0)
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, NULL);
	else if (argc == 2 && strcmp(argv[1], "restart") == 0)
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, NULL);
	else {
		fprintf(stderr, "usage: guest-reboot restart2 ARG | halt | poweroff | restart\n");
		return 2;
	}
	perror("guest-reboot: reboot");
	return 1;
}
