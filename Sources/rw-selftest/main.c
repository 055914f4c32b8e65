/*
 * rw-selftest: the only reboot(2) calls reboot-witness's tests make on a host.
 *
 *   rw-selftest bad-magic [--cgroup DIR] [--count N] [--rate PER_SECOND] [--vary-cmd] [--comm NAME]
 *       A child (moved into DIR/cgroup.procs first, if given; named NAME
 *       with PR_SET_NAME, if given: any bytes, control characters too)
 *       calls reboot(2) with wrong magic numbers: root gets EINVAL, the
 *       probes still fire.
 *       --vary-cmd passes a different command each call, so that the kernel
 *       does not count them as repeats of one caller (benchmarks of the
 *       ring buffer and store path).
 *   rw-selftest flood [--workers N] [--seconds S] [--new-comm]
 *       N children (2) call reboot(2) with wrong magic at full speed for S
 *       seconds (4); with --new-comm each call comes under a new comm
 *       (PR_SET_NAME), so that no two calls are one caller to the kernel's
 *       repeat counting. Prints the calls made. A flood of noise for the
 *       tests that stopping calls never share its fate.
 *   rw-selftest capable-loop [--count N]
 *       N setuid(0) calls as root: each is one CAP_SETUID check through
 *       security_capable(), the path the hold's fmod_ret program sits on.
 *       Prints nanoseconds per call (benchmarks compare armed and not).
 *   rw-selftest exec-loop [--count N]
 *       N fork + execve("/bin/true") + wait, timed: prints nanoseconds per
 *       exec (the exec benchmark compares armed and not armed).
 *   rw-selftest watchdog-feed [--feeds N]
 *       (QEMU guests only) opens /dev/watchdog, feeds it N times a second
 *       apart, then blocks in a read of a pipe nobody writes: the watchdog
 *       starves and the hunt must name this process and where it sleeps.
 *   rw-selftest fake-bus-service --address ADDR [--delay-ms N]
 *       (tests, a private bus only) stands in for logind and systemd: see
 *       fake_bus_service.c.
 *   rw-selftest bus-flood --address ADDR --calls N
 *       (tests, a private bus only) N cheap calls to logind's interface, N
 *       refused-looking Reboot calls, then a PowerOff: see bus_flood.c.
 *   rw-selftest pidns-restart
 *       A child drops to uid 65534, unshares a new user + PID namespace and
 *       forks its init; only if getpid() == 1 does that init call
 *       reboot(RESTART), which the kernel turns into killing the namespace.
 *
 *   (run under the name systemd-shutdown, with any arguments)
 *       Stands in for PID 1's systemd-shutdown in the final-stage test: waits
 *       for a line on stdin (the test remounts the store read-only meanwhile),
 *       then makes one bad-magic reboot(2) and prints when it returned.
 *
 * Each prints "pid=<host pid of the caller> ..." on stdout for the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/reboot.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define BAD_MAGIC1 0xDEADBEEFu  /* not LINUX_REBOOT_MAGIC1: always EINVAL */

static int enter_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
		fprintf(stderr, "rw-selftest: cannot enter cgroup %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void pace(struct timespec *next, long interval_ns)
{
	next->tv_nsec += interval_ns;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

static int bad_magic(const char *cgroup, int count, long rate, int vary_cmd, const char *comm)
{
	pid_t child = fork();
	int status;

	if (child < 0)
		return perror("fork"), 1;
	if (child == 0) {
		if (cgroup && enter_cgroup(cgroup) < 0)
			_exit(1);
		if (comm)
			prctl(PR_SET_NAME, comm, 0, 0, 0);
		int einval = 0;
		struct timespec next;
		clock_gettime(CLOCK_MONOTONIC, &next);
		for (int i = 0; i < count; i++) {
			if (rate > 0)
				pace(&next, 1000000000L / rate);
			long rc = syscall(SYS_reboot, BAD_MAGIC1, 0, vary_cmd ? i : 0, NULL);
			if (rc == -1 && errno == EINVAL)
				einval++;
		}
		printf("pid=%d einval=%d\n", getpid(), einval);
		fflush(stdout);
		_exit(einval == count ? 0 : 1);
	}
	if (waitpid(child, &status, 0) < 0)
		return perror("waitpid"), 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int flood(int workers, int seconds, int new_comm)
{
	int fds[2];
	long long total = 0;

	if (workers < 1 || workers > 64 || seconds < 1 || seconds > 600)
		return fprintf(stderr, "rw-selftest: flood needs 1..64 workers and 1..600 seconds\n"), 2;
	if (pipe(fds) < 0)
		return perror("pipe"), 1;
	for (int w = 0; w < workers; w++) {
		pid_t child = fork();

		if (child < 0)
			return perror("fork"), 1;
		if (child == 0) {
			struct timespec now, end;
			long long calls = 0;
			char comm[16];

			close(fds[0]);
			clock_gettime(CLOCK_MONOTONIC, &end);
			end.tv_sec += seconds;
			do {
				for (int i = 0; i < 256; i++, calls++) {
					if (new_comm) {
						snprintf(comm, sizeof(comm), "fl%02x%08llx", w, calls);
						prctl(PR_SET_NAME, comm);
					}
					syscall(SYS_reboot, BAD_MAGIC1, 0, 0, NULL);
				}
				clock_gettime(CLOCK_MONOTONIC, &now);
			} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
			if (write(fds[1], &calls, sizeof(calls)) != sizeof(calls))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (long long calls; read(fds[0], &calls, sizeof(calls)) == sizeof(calls);)
		total += calls;
	while (wait(NULL) > 0)
		;
	printf("flood workers=%d seconds=%d calls=%lld calls_per_second=%lld\n", workers, seconds, total, total / seconds);
	return 0;
}

int fake_bus_service(const char *address, int delay_ms);
int bus_flood(const char *address, int calls);

static int capable_loop(int count)
{
	struct timespec start, end;

	if (getuid() != 0)
		return fprintf(stderr, "rw-selftest: capable-loop needs root\n"), 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < count; i++) {
		if (setuid(0) < 0)
			return perror("setuid"), 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
	printf("capable-loop calls=%d ns_per_call=%.1f\n", count, ns / count);
	return 0;
}

static int exec_loop(int count)
{
	struct timespec start, end;
	char *const argv[] = { "true", NULL };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < count; i++) {
		pid_t child = fork();
		int status;

		if (child < 0)
			return perror("fork"), 1;
		if (child == 0) {
			execv("/bin/true", argv);
			_exit(127);
		}
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return fprintf(stderr, "rw-selftest: /bin/true failed\n"), 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
	printf("exec-loop execs=%d ns_per_exec=%.0f\n", count, ns / count);
	return 0;
}

static int watchdog_feed(int feeds)
{
	int fds[2];
	char byte;
	int wd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);

	if (wd < 0)
		return perror("rw-selftest: open /dev/watchdog"), 1;
	for (int i = 0; i < feeds; i++) {
		if (write(wd, "1", 1) != 1)
			return perror("rw-selftest: feed /dev/watchdog"), 1;
		sleep(1);
	}
	printf("pid=%d fed=%d, now blocking\n", getpid(), feeds);
	fflush(stdout);
	if (pipe(fds) < 0)
		return perror("pipe"), 1;
	read(fds[0], &byte, 1); /* never returns: the write end stays open here */
	return 1;
}

static int pidns_init(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "rw-selftest: not the init of a new PID namespace; refusing\n");
		_exit(3);
	}
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, NULL);
	/* Only reached if the kernel refused (EPERM): the namespace was not new. */
	fprintf(stderr, "rw-selftest: reboot in namespace returned: %s\n", strerror(errno));
	_exit(4);
}

static int pidns_restart(void)
{
	int fds[2];
	pid_t child;
	int status;

	if (pipe(fds) < 0)
		return perror("pipe"), 1;
	child = fork();
	if (child < 0)
		return perror("fork"), 1;
	if (child == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
			perror("rw-selftest: drop to uid 65534");
			_exit(1);
		}
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
			perror("rw-selftest: unshare(CLONE_NEWUSER|CLONE_NEWPID)");
			_exit(1);
		}
		pid_t init = fork();
		if (init < 0)
			_exit(1);
		if (init == 0)
			pidns_init();
		dprintf(fds[1], "%d", init);
		close(fds[1]);
		int st;
		if (waitpid(init, &st, 0) < 0)
			_exit(1);
		/* The kernel kills a namespace whose init restarts with SIGHUP. */
		_exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP ? 0 : 5);
	}
	close(fds[1]);
	char buf[32] = {0};
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	if (waitpid(child, &status, 0) < 0)
		return perror("waitpid"), 1;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	printf("pid=%s outcome=%s\n", n > 0 ? buf : "?", rc == 0 ? "namespace-killed-sighup" : "unexpected");
	return rc;
}

static int shutdown_stand_in(void)
{
	char line[64];
	struct timespec done;
	long rc;

	if (!fgets(line, sizeof(line), stdin))
		return fprintf(stderr, "rw-selftest: no go-ahead on stdin\n"), 1;
	rc = syscall(SYS_reboot, BAD_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, NULL);
	clock_gettime(CLOCK_BOOTTIME, &done);
	printf("pid=%d errno=%s returned_boottime_ns=%lld\n", getpid(), rc < 0 && errno == EINVAL ? "EINVAL" : "unexpected",
	       (long long)done.tv_sec * 1000000000LL + done.tv_nsec);
	return rc < 0 && errno == EINVAL ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(name, "systemd-shutdown") == 0)
		return shutdown_stand_in();
	if (argc >= 2 && strcmp(argv[1], "bad-magic") == 0) {
		const char *cgroup = NULL, *comm = NULL;
		int count = 1;
		long rate = 0;
		int vary_cmd = 0;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--vary-cmd") == 0) {
				vary_cmd = 1;
				continue;
			}
			if (i + 1 >= argc)
				break;
			if (strcmp(argv[i], "--cgroup") == 0)
				cgroup = argv[++i];
			else if (strcmp(argv[i], "--count") == 0)
				count = atoi(argv[++i]);
			else if (strcmp(argv[i], "--rate") == 0)
				rate = atol(argv[++i]);
			else if (strcmp(argv[i], "--comm") == 0)
				comm = argv[++i];
		}
		return bad_magic(cgroup, count > 0 ? count : 1, rate, vary_cmd, comm);
	}
	if (argc >= 2 && strcmp(argv[1], "flood") == 0) {
		int workers = 2, seconds = 4, new_comm = 0;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--new-comm") == 0)
				new_comm = 1;
			else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
				workers = atoi(argv[++i]);
			else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
				seconds = atoi(argv[++i]);
		}
		return flood(workers, seconds, new_comm);
	}
	if (argc >= 2 && strcmp(argv[1], "capable-loop") == 0)
		return capable_loop(argc == 4 && strcmp(argv[2], "--count") == 0 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 100000);
	if (argc >= 2 && strcmp(argv[1], "exec-loop") == 0)
		return exec_loop(argc == 4 && strcmp(argv[2], "--count") == 0 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 20000);
	if (argc >= 2 && strcmp(argv[1], "watchdog-feed") == 0)
		return watchdog_feed(argc == 4 && strcmp(argv[2], "--feeds") == 0 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 3);
	if (argc >= 4 && strcmp(argv[1], "fake-bus-service") == 0 && strcmp(argv[2], "--address") == 0)
		return fake_bus_service(argv[3], argc == 6 && strcmp(argv[4], "--delay-ms") == 0 ? atoi(argv[5]) : 300);
	if (argc == 6 && strcmp(argv[1], "bus-flood") == 0 && strcmp(argv[2], "--address") == 0 && strcmp(argv[4], "--calls") == 0)
		return bus_flood(argv[3], atoi(argv[5]) > 0 ? atoi(argv[5]) : 1);
	if (argc == 2 && strcmp(argv[1], "pidns-restart") == 0)
		return pidns_restart();
	fprintf(stderr, "usage: rw-selftest bad-magic [--cgroup DIR] [--count N] [--rate PER_SECOND] [--vary-cmd] [--comm NAME] | flood [--workers N] [--seconds S] [--new-comm] | capable-loop [--count N] | exec-loop [--count N] | watchdog-feed [--feeds N] | fake-bus-service --address ADDR [--delay-ms N] | bus-flood --address ADDR --calls N | pidns-restart\n");
	return 2;
}
