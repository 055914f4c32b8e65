/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Caller capture shared by every reboot-witness probe. Everything is read in
 * the kernel at probe time: after a reboot(2) the caller may be gone before
 * userspace could look it up in /proc.
 */
#ifndef REBOOT_WITNESS_CAPTURE_BPF_H
#define REBOOT_WITNESS_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "witness.h"
#include "core_fixes.bpf.h"

/* Everything but stopping records (see enum rw_class). 1 MiB: a storm must
 * not lose records while the controller fsyncs. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} rw_events SEC(".maps");

/* Stopping records only: no flood of noise can take their room. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} rw_urgent SEC(".maps");

/* Stopping records rw_urgent had no room for; the controller polls and
 * deletes them. Preallocated: an insert never allocates. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct rw_spill_key);
	__type(value, struct rw_record);
} rw_spill SEC(".maps");

/* Where each CPU builds its record (2 KiB does not fit on the BPF stack);
 * it is then copied into its ring (bpf_ringbuf_output) or rw_spill. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_record);
} rw_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_counters);
} rw_stats SEC(".maps");

/* The generation this object's programs were loaded for (see struct rw_config). */
const volatile __u32 rw_generation = 0;

/* Hold state, written by the controller (shared with the hold object). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_hold_state);
} rw_hold_state SEC(".maps");

/* Threads whose reboot(2) is being held, by pid_tgid; cleared at sys_exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} rw_held SEC(".maps");

/* Never held: executables (--allow-exe) and cgroup v2 ids (--allow-cgroup). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct rw_exe_id);
	__type(value, __u8);
} rw_allow_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} rw_allow_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_config);
} rw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_final_state);
} rw_final SEC(".maps");

/* Watchdog hunt state, shared so that every watchdog object instance sees it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct rw_watchdog_state);
} rw_watchdogs SEC(".maps");

#define rw_count(field)							\
	do {								\
		__u32 _key = 0;						\
		struct rw_counters *_c = bpf_map_lookup_elem(&rw_stats, &_key); \
		if (_c)							\
			_c->field++;					\
	} while (0)

/* Programs of another generation stand by (an upgrade in progress, or a
 * newer arm took over): exactly one set of programs runs at any time. */
static __always_inline bool rw_stands_by(void)
{
	__u32 key = 0;
	struct rw_config *config = bpf_map_lookup_elem(&rw_config, &key);

	return !config || config->generation != rw_generation;
}

#include "attribution.bpf.h"

/* This CPU's scratch record with a cleared header, or NULL. Not zeroed
 * whole (a 2 KiB memset cannot be inlined): strings and arrays are only read
 * up to their terminator or their *_depth/_len/stack_bytes counts. */
static __always_inline struct rw_record *rw_begin(__u16 probe, __u16 attach)
{
	__u32 key = 0;
	struct rw_record *r = bpf_map_lookup_elem(&rw_scratch, &key);

	if (!r)
		return NULL;
	__builtin_memset(r, 0, __builtin_offsetof(struct rw_record, comm));
	r->comm[0] = 0;
	r->tty[0] = 0;
	r->arg[0] = 0;
	r->version = RW_RECORD_VERSION;
	r->probe = probe;
	r->attach = attach;
	r->boot_ns = bpf_ktime_get_boot_ns();
	return r;
}

/* A stopping record into rw_urgent, else rw_spill. False (counted) when
 * neither had room. */
static __always_inline bool rw_submit_stopping(struct rw_record *r, __u64 flags)
{
	struct rw_spill_key key = { .boot_ns = r->boot_ns, .tid = r->tid, .probe = r->probe };

	if (bpf_ringbuf_output(&rw_urgent, r, sizeof(*r), flags) == 0)
		return true;
	r->flags |= RW_F_SPILLED;
	if (bpf_map_update_elem(&rw_spill, &key, r, BPF_NOEXIST) == 0) {
		rw_count(spilled);
		return true;
	}
	rw_count(lost_stopping);
	return false;
}

/* Any other record into rw_events; false when it had no room (the caller
 * counts it in its class). */
static __always_inline bool rw_submit_event(struct rw_record *r)
{
	return bpf_ringbuf_output(&rw_events, r, sizeof(*r), 0) == 0;
}

/* rw_submit_event for records whose class has nothing better to do on a full ring. */
static __always_inline void rw_submit_routine(struct rw_record *r, bool exec)
{
	if (rw_submit_event(r))
		return;
	if (exec)
		rw_count(lost_exec);
	else
		rw_count(lost_other);
}

/* Full attribution of the current task plus the kernel stack. */
static __noinline int rw_capture(void *ctx, struct rw_record *r, bool with_stack)
{
	struct task_struct *task;

	if (!r)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	rw_fill_identity(r, task);
	rw_fill_exe(r, task);
	rw_fill_cgroup(r, task);
	rw_fill_pid_ns(r, task);
	rw_fill_ancestry(r, task);
	if (with_stack)
		r->stack_bytes = bpf_get_stack(ctx, r->kstack, sizeof(r->kstack), 0);
	return 0;
}

static __always_inline void rw_read_kernel_arg(struct rw_record *r, const void *s)
{
	if (s && bpf_probe_read_kernel_str(r->arg, sizeof(r->arg), s) > 0)
		r->flags |= RW_F_HAS_ARG;
}

static __always_inline bool rw_printk_enabled(void)
{
	__u32 key = 0;
	struct rw_config *config = bpf_map_lookup_elem(&rw_config, &key);

	return config && config->printk_lines;
}

/*
 * Under reboot2panic, one line into the ftrace buffer: a kernel-originated
 * restart never lets the controller write the record, but with
 * kernel.ftrace_dump_on_oops the buffer is printed before the panic's
 * kmsg_dump, so the line lands in pstore's Panic record.
 */
static __always_inline void rw_printk_record(const char *where, const struct rw_record *r)
{
	if (!rw_printk_enabled())
		return;
	bpf_printk("reboot-witness: %s by %s[%d]", where, r->comm, r->pid);
	bpf_printk("reboot-witness: %s exe %s cgroup %s", where, r->exe[0], r->cgroup[0]);
	if (r->ancestry_len > 1)
		bpf_printk("reboot-witness: %s ancestry %s < %s", where,
			   r->ancestry[0].comm, r->ancestry[1].comm);
}

/* Kernel restart path hit: the record, attributed, with its stack and
 * optional string/int argument; NULL when standing by or out of scratch. */
static __always_inline struct rw_record *rw_kernel_record(void *ctx, __u16 probe, __u16 attach, const char *where,
							   const void *str, __u32 arg_int)
{
	struct rw_record *r;

	if (rw_stands_by())
		return NULL;
	r = rw_begin(probe, attach);
	if (!r)
		return NULL;
	rw_capture(ctx, r, true);
	rw_read_kernel_arg(r, str);
	r->arg_int = arg_int;
	rw_printk_record(where, r);
	return r;
}

static __always_inline int rw_emit_kernel(void *ctx, __u16 probe, __u16 attach, const char *where,
					  const void *str, __u32 arg_int)
{
	struct rw_record *r = rw_kernel_record(ctx, probe, attach, where, str, arg_int);

	if (r)
		rw_submit_stopping(r, 0);
	return 0;
}

/* fentry and kprobe flavours of one kernel function; the loader keeps at
 * most one of them (fentry where the kernel allows it). */
#define RW_KFUNC(fn, probe)							\
SEC("fentry/" #fn) int BPF_PROG(fentry_##fn)					\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_FENTRY, #fn, NULL, 0); }	\
SEC("kprobe/" #fn) int BPF_KPROBE(kprobe_##fn)					\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_KPROBE, #fn, NULL, 0); }

#define RW_KFUNC_STR(fn, probe)							\
SEC("fentry/" #fn) int BPF_PROG(fentry_##fn, const char *s)			\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_FENTRY, #fn, s, 0); }	\
SEC("kprobe/" #fn) int BPF_KPROBE(kprobe_##fn, const char *s)			\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_KPROBE, #fn, s, 0); }

#define RW_KFUNC_INT(fn, probe)							\
SEC("fentry/" #fn) int BPF_PROG(fentry_##fn, long v)				\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_FENTRY, #fn, NULL, (__u32)v); }	\
SEC("kprobe/" #fn) int BPF_KPROBE(kprobe_##fn, long v)			\
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_KPROBE, #fn, NULL, (__u32)v); }

/* A reason string and, third, an int that says what happens (power off or
 * restart): __hw_protection_shutdown's `shutdown`, __hw_protection_trigger's
 * `action` (enum hw_protection_action). */
#define RW_KFUNC_STR_ACTION(fn, probe)						\
SEC("fentry/" #fn) int BPF_PROG(fentry_##fn, const char *s, int ms, long action) \
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_FENTRY, #fn, s, (__u32)action); } \
SEC("kprobe/" #fn) int BPF_KPROBE(kprobe_##fn, const char *s, int ms, long action) \
{ return rw_emit_kernel(ctx, probe, RW_ATTACH_KPROBE, #fn, s, (__u32)action); }

#endif /* REBOOT_WITNESS_CAPTURE_BPF_H */
