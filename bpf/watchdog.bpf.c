// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watchdog fire paths and the watchdog hunt. They live in modules (softdog,
 * watchdog core), which may be loaded after `arm` started, so this object is
 * loaded separately, sharing the main object's maps. A timer fires the
 * watchdog: the current task is whoever was interrupted, so the fire record
 * also carries who fed the watchdog last and when (rw_watchdogs).
 */
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* drivers/watchdog/watchdog_dev.c: set by writing the magic 'V'. */
#define RW_WDOG_ALLOW_RELEASE_BIT 1

static __always_inline struct rw_watchdog_state *rw_watchdog_entry(__u32 key, __u32 id)
{
	struct rw_watchdog_state *state = bpf_map_lookup_elem(&rw_watchdogs, &key);

	if (!state) {
		struct rw_watchdog_state fresh = { .id = id };

		bpf_map_update_elem(&rw_watchdogs, &key, &fresh, BPF_NOEXIST);
		state = bpf_map_lookup_elem(&rw_watchdogs, &key);
	}
	return state;
}

/* A keepalive (or the start at open): the current task feeds the watchdog. */
static __always_inline int rw_watchdog_fed(struct watchdog_device *wdd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 id = BPF_CORE_READ(wdd, id);
	__u32 keys[2] = { id, RW_WATCHDOG_ANY };

	if (rw_stands_by())
		return 0;
	for (int i = 0; i < 2; i++) {
		struct rw_watchdog_state *state = rw_watchdog_entry(keys[i], id);

		if (!state)
			continue;
		state->id = id;
		state->last_ping_ns = bpf_ktime_get_boot_ns();
		state->pings++; /* a racy count is fine: it is for the report */
		state->pinger_tgid = pid_tgid >> 32;
		state->pinger_tid = (__u32)pid_tgid;
		state->timeout_s = BPF_CORE_READ(wdd, timeout);
		state->pretimeout_s = BPF_CORE_READ(wdd, pretimeout);
		state->flags = 0;
		bpf_get_current_comm(state->pinger_comm, sizeof(state->pinger_comm));
	}
	return 0;
}

/* Closing the device: with the magic 'V' the watchdog stops; without it, it
 * keeps running and nobody feeds it any more. */
static __always_inline int rw_watchdog_released(void *ctx, __u16 attach, struct file *file)
{
	struct watchdog_core_data *wd_data = BPF_CORE_READ(file, private_data);
	unsigned long status = BPF_CORE_READ(wd_data, status);
	__u32 id = BPF_CORE_READ(wd_data, wdd, id);
	__u32 magic = (status >> RW_WDOG_ALLOW_RELEASE_BIT) & 1;
	__u32 keys[2] = { id, RW_WATCHDOG_ANY };
	struct rw_record *r;

	if (rw_stands_by())
		return 0;
	for (int i = 0; i < 2; i++) {
		struct rw_watchdog_state *state = bpf_map_lookup_elem(&rw_watchdogs, &keys[i]);

		if (state)
			state->flags = RW_WD_CLOSED | (magic ? RW_WD_MAGIC_CLOSE : 0);
	}
	r = rw_begin(RW_PROBE_WATCHDOG_RELEASE, attach);
	if (!r)
		return 0;
	rw_capture(ctx, r, false);
	r->arg_int = magic;
	if (magic)
		__builtin_memcpy(r->arg, "closed with the magic V: watchdog stopped", 42);
	else
		__builtin_memcpy(r->arg, "closed without the magic V: still running, unfed", 49);
	r->flags |= RW_F_HAS_ARG;
	rw_submit_routine(r, false);
	return 0;
}

/* The watchdog fired (or its pretimeout hit): the record names the last
 * feeder, in `arg`, because the current task is only who was interrupted. */
static __always_inline int rw_watchdog_fired(void *ctx, __u16 probe, __u16 attach,
					     const char *where, __u32 key)
{
	struct rw_watchdog_state *state;
	struct rw_record *r;

	if (rw_stands_by())
		return 0;
	r = rw_begin(probe, attach);
	if (!r)
		return 0;
	rw_capture(ctx, r, true);
	state = bpf_map_lookup_elem(&rw_watchdogs, &key);
	if (state && state->last_ping_ns) {
		__u64 data[5] = {
			(bpf_ktime_get_boot_ns() - state->last_ping_ns) / 1000000,
			(__u64)state->pinger_comm, state->pinger_tgid, state->pings, state->id,
		};

		if (bpf_snprintf(r->arg, sizeof(r->arg),
				 "last keepalive %llu ms ago by %s[%u] (%u keepalives, watchdog%u)",
				 data, sizeof(data)) > 0)
			r->flags |= RW_F_HAS_ARG;
		r->arg_int = state->pinger_tgid;
	}
	if (rw_printk_enabled())
		bpf_printk("reboot-witness: %s: %s", where, r->arg);
	rw_printk_record(where, r);
	rw_submit_stopping(r, 0);
	return 0;
}

SEC("fentry/softdog_fire")
int BPF_PROG(fentry_softdog_fire)
{ return rw_watchdog_fired(ctx, RW_PROBE_SOFTDOG_FIRE, RW_ATTACH_FENTRY, "softdog_fire", RW_WATCHDOG_ANY); }

SEC("kprobe/softdog_fire")
int BPF_KPROBE(kprobe_softdog_fire)
{ return rw_watchdog_fired(ctx, RW_PROBE_SOFTDOG_FIRE, RW_ATTACH_KPROBE, "softdog_fire", RW_WATCHDOG_ANY); }

SEC("fentry/watchdog_notify_pretimeout")
int BPF_PROG(fentry_watchdog_notify_pretimeout, struct watchdog_device *wdd)
{
	return rw_watchdog_fired(ctx, RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT, RW_ATTACH_FENTRY,
				 "watchdog_notify_pretimeout", BPF_CORE_READ(wdd, id));
}

SEC("kprobe/watchdog_notify_pretimeout")
int BPF_KPROBE(kprobe_watchdog_notify_pretimeout, struct watchdog_device *wdd)
{
	return rw_watchdog_fired(ctx, RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT, RW_ATTACH_KPROBE,
				 "watchdog_notify_pretimeout", BPF_CORE_READ(wdd, id));
}

/* Who opened the device: full attribution, through the ring. */
static __always_inline int rw_watchdog_opened(void *ctx, __u16 attach)
{
	struct rw_record *r;

	if (rw_stands_by())
		return 0;
	r = rw_begin(RW_PROBE_WATCHDOG_OPEN, attach);
	if (!r)
		return 0;
	rw_capture(ctx, r, false);
	rw_submit_routine(r, false);
	return 0;
}

SEC("fentry/watchdog_open")
int BPF_PROG(fentry_watchdog_open)
{ return rw_watchdog_opened(ctx, RW_ATTACH_FENTRY); }

SEC("kprobe/watchdog_open")
int BPF_KPROBE(kprobe_watchdog_open)
{ return rw_watchdog_opened(ctx, RW_ATTACH_KPROBE); }

SEC("fentry/watchdog_start")
int BPF_PROG(fentry_watchdog_start, struct watchdog_device *wdd)
{ return rw_watchdog_fed(wdd); }

SEC("kprobe/watchdog_start")
int BPF_KPROBE(kprobe_watchdog_start, struct watchdog_device *wdd)
{ return rw_watchdog_fed(wdd); }

SEC("fentry/watchdog_ping")
int BPF_PROG(fentry_watchdog_ping, struct watchdog_device *wdd)
{ return rw_watchdog_fed(wdd); }

SEC("kprobe/watchdog_ping")
int BPF_KPROBE(kprobe_watchdog_ping, struct watchdog_device *wdd)
{ return rw_watchdog_fed(wdd); }

SEC("fentry/watchdog_release")
int BPF_PROG(fentry_watchdog_release, struct inode *inode, struct file *file)
{ return rw_watchdog_released(ctx, RW_ATTACH_FENTRY, file); }

SEC("kprobe/watchdog_release")
int BPF_KPROBE(kprobe_watchdog_release, struct inode *inode, struct file *file)
{ return rw_watchdog_released(ctx, RW_ATTACH_KPROBE, file); }
