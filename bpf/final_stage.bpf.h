/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The final stage: PID 1 (systemd-shutdown) waits in its own reboot(2) until
 * the controller has the record durable. Included once, by witness.bpf.c.
 */
#ifndef REBOOT_WITNESS_FINAL_STAGE_BPF_H
#define REBOOT_WITNESS_FINAL_STAGE_BPF_H

#include "capture.bpf.h"

/* Is the caller the process whose reboot(2) waits for the final stage? */
static __always_inline struct rw_final_state *rw_final_waiter(void)
{
	__u32 key = 0;
	struct rw_final_state *final = bpf_map_lookup_elem(&rw_final, &key);

	if (!final || !final->budget_ns || final->tgid != bpf_get_current_pid_tgid() >> 32)
		return NULL;
	return final;
}

struct rw_final_wait {
	__u64 event_ns;
	__u64 deadline_ns;
	bool done;
};

static long rw_final_poll(__u64 index, void *data)
{
	struct rw_final_wait *wait = data;
	__u32 key = 0;
	struct rw_final_state *final = bpf_map_lookup_elem(&rw_final, &key);

	if (!final || !*(volatile __u64 *)&final->budget_ns ||
	    *(volatile __u64 *)&final->acked_ns == wait->event_ns ||
	    bpf_ktime_get_boot_ns() > wait->deadline_ns)
		wait->done = true;
	return wait->done;
}

static long rw_final_round(__u64 index, void *data)
{
	struct rw_final_wait *wait = data;

	bpf_loop(1 << 16, rw_final_poll, data, 0);
	return wait->done;
}

/* Busy-waits (no BPF program may sleep) until the controller, on another
 * CPU, has the record durable; the budget bounds it if the controller dies
 * or cannot run. Two nested loops: one bpf_loop stops at 8M iterations,
 * a few hundred ms on a fast machine. */
static __always_inline void rw_final_wait_for_ack(__u64 event_ns, __u64 budget_ns)
{
	struct rw_final_wait wait = { .event_ns = event_ns, .deadline_ns = event_ns + budget_ns };

	bpf_loop(1 << 16, rw_final_round, &wait, 0);
}

#endif
