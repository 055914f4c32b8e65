#ifndef CWITNESS_H
#define CWITNESS_H
#include "witness.h"

/* syscall(2) is variadic, which Swift cannot call. Returns 0 or -errno. */
long cw_reboot(unsigned int magic1, unsigned int magic2, unsigned int cmd, const char *arg);

/* libbpf reports through a printf-style va_list callback, which Swift cannot
 * implement. These keep the last lines in a buffer so that errors can carry
 * what libbpf said; `verbose` also echoes debug output to stderr. */
void cw_libbpf_capture_log(int verbose);
void cw_libbpf_clear_log(void);
const char *cw_libbpf_log(void);

/* A BPF_PROG_TYPE_TRACING (fentry) program that does nothing, loaded against
 * the BTF id of a kernel function: tells whether this kernel accepts fentry
 * at all. Returns 0 or -errno from the load. */
int cw_probe_fentry(int btf_id);



/* signalfd(2) and its siginfo are not imported by Swift's Glibc module.
 * Blocks `signals` for normal delivery; returns the fd or -errno. */
int cw_signalfd(const int *signals, int count);
/* One pending signal number from a signalfd, or 0 if none. */
int cw_read_signal(int fd);

/* glibc's strerrorname_np ("EINVAL"), which needs _GNU_SOURCE. */
const char *cw_errno_name(int code);
/* Points getutxent() at a wtmp file (0 on success). */
int cw_utmpx_file(const char *path);

#endif
