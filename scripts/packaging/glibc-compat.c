/*
 * Linked into the packaged binary only (scripts/package). The binary is
 * linked against Debian 11's glibc 2.31 and must start on glibc 2.17 and
 * later (RHEL/CentOS/Oracle Linux 7, RHEL 8's 2.28, every newer system).
 *
 * Every reference to a symbol glibc versioned after 2.17 is redirected with
 * the linker's --wrap=SYMBOL (the list is WRAPPED in scripts/package; it
 * reaches the Swift runtime and the static libraries too) to a __wrap_SYMBOL
 * here, which calls the oldest version of the same function, or does what it
 * does where glibc 2.17 has none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * libstdc++ 12, linked statically, reads this variable that glibc 2.32
 * introduced. 0 means "maybe multi-threaded": libstdc++ then always uses
 * atomic operations, which is correct on every glibc. On 2.32 and later the
 * executable's copy interposes libc's; libc keeps using its own internally.
 */
char __libc_single_threaded = 0;

/*
 * libm: glibc 2.27 and 2.29 gave these new implementations (faster, without
 * the SVID error handling) under new versions; the x86-64 originals
 * (GLIBC_2.2.5) compute the same values and are in every glibc.
 */
#define OLD_MATH(type, name)                                                  \
	__asm__(".symver old_" #name ", " #name "@GLIBC_2.2.5");              \
	type old_##name(type);                                                \
	type __wrap_##name(type x) { return old_##name(x); }
OLD_MATH(double, exp)
OLD_MATH(double, exp2)
OLD_MATH(double, log)
OLD_MATH(double, log2)
OLD_MATH(float, expf)
OLD_MATH(float, exp2f)
OLD_MATH(float, logf)
OLD_MATH(float, log2f)

__asm__(".symver old_pow, pow@GLIBC_2.2.5");
double old_pow(double, double);
double __wrap_pow(double x, double y) { return old_pow(x, y); }

__asm__(".symver old_powf, powf@GLIBC_2.2.5");
float old_powf(float, float);
float __wrap_powf(float x, float y) { return old_powf(x, y); }

/*
 * fcntl64 (2.28) is fcntl with a 64-bit off_t in struct flock: on x86-64
 * off_t has always been 64 bits, so fcntl@GLIBC_2.2.5 is the same call. Its
 * one optional argument is an int or a pointer: passed on as a long.
 */
__asm__(".symver old_fcntl, fcntl@GLIBC_2.2.5");
int old_fcntl(int, int, ...);
int __wrap_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return old_fcntl(fd, cmd, arg);
}

/*
 * fmemopen: 2.22 made a new version (POSIX's binary-mode rules); the old
 * one differs only for a buffer opened in append or binary modes we never
 * use ("r" on a buffer that libbpf and libelf hand it).
 */
__asm__(".symver old_fmemopen, fmemopen@GLIBC_2.2.5");
FILE *old_fmemopen(void *, size_t, const char *);
FILE *__wrap_fmemopen(void *buf, size_t size, const char *mode) { return old_fmemopen(buf, size, mode); }

/*
 * getentropy (2.25): the getrandom(2) system call, as glibc implements it,
 * for at most 256 bytes. Kernels without getrandom (before 3.17, and RHEL
 * 7's before 7.4) get /dev/urandom instead.
 */
int __wrap_getentropy(void *buffer, size_t length)
{
	if (length > 256) {
		errno = EIO;
		return -1;
	}
	unsigned char *out = buffer;
	size_t done = 0;
	while (done < length) {
		long n = syscall(SYS_getrandom, out + done, length - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOSYS)
			break;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	if (done == length)
		return 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (done < length) {
		ssize_t n = read(fd, out + done, length - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}
