/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Floods of reboot(2) calls: a caller seen once is then only counted
 * (rw_callers), and refused calls nothing else can take are aggregated per
 * cgroup and executable (rw_noise). Included once, by witness.bpf.c.
 */
#ifndef REBOOT_WITNESS_FLOOD_BPF_H
#define REBOOT_WITNESS_FLOOD_BPF_H

#include "capture.bpf.h"

/* Callers seen once, then only counted (see struct rw_caller_key). Once it
 * is full, a new stopping caller still goes through its ring; a new refused
 * one is counted in rw_noise. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rw_caller_key);
	__type(value, struct rw_caller_count);
} rw_callers SEC(".maps");

/* How much of each rw_callers count the controller has stored. Written by
 * the controller only: a restarted arm resumes folding where the last one
 * stopped, with no count stored twice. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rw_caller_key);
	__type(value, __u64);
} rw_folded SEC(".maps");

/* Refused calls counted per cgroup and executable (see struct rw_noise_key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct rw_noise_key);
	__type(value, struct rw_noise_count);
} rw_noise SEC(".maps");

static __always_inline __u64 rw_fnv1a(__u64 hash, __u64 word)
{
	return (hash ^ word) * 0x100000001b3ULL;
}

static __always_inline void rw_make_caller_key(struct rw_caller_key *k, struct task_struct *task,
					       __u16 probe, __u32 magic1, __u32 magic2, __u32 cmd)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct task_struct *p = task;
	__u64 hash = 0xcbf29ce484222325ULL;

	k->exe_dentry = (__u64)BPF_CORE_READ(exe, f_path.dentry);
	k->exe_mnt = (__u64)BPF_CORE_READ(exe, f_path.mnt);
	k->css_set = (__u64)BPF_CORE_READ(task, cgroups);
	k->probe = probe;
	k->cmd = cmd;
	k->magic1 = magic1;
	k->magic2 = magic2;
	/* The caller and RW_ANCESTRY ancestors. No early exit: past the top the
	 * walk repeats init_task (its own parent), which hashes the same for
	 * every chain, and a branch-free loop keeps verification linear. */
	for (int i = 0; i <= RW_ANCESTRY; i++) {
		__u64 comm[2] = {};

		BPF_CORE_READ_INTO(&comm, p, comm);
		hash = rw_fnv1a(rw_fnv1a(hash, comm[0]), comm[1]);
		p = BPF_CORE_READ(p, real_parent);
	}
	k->comm_chain = hash;
}

/* What rw_count_repeat found. */
enum rw_repeat {
	RW_FIRST_CALL = 0,          /* registered: emit it, with boot_ns = now */
	RW_REPEAT = 1,              /* counted: emit nothing */
	RW_CALLERS_FULL = 2,        /* rw_callers has no room: not counted */
};

/* Counts a repeat of a caller the ring already carried, or registers a
 * first call. With RW_FORGET in probe_mode, drops the caller instead: its
 * first call could not be emitted, so the next call must be first. Global,
 * like rw_should_hold, so that it is verified once for both uses. */
#define RW_FORGET (1u << 16)

__noinline int rw_count_repeat(__u32 probe_mode, __u32 magic1, __u32 magic2, __u32 cmd, __u64 now)
{
	__u16 probe = probe_mode & 0xFFFF;
	bool forget = probe_mode & RW_FORGET;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct rw_caller_key key = {};
	struct rw_caller_count *seen;

	rw_make_caller_key(&key, task, probe, magic1, magic2, cmd);
	if (forget) {
		bpf_map_delete_elem(&rw_callers, &key);
		return RW_FIRST_CALL;
	}
	seen = bpf_map_lookup_elem(&rw_callers, &key);
	if (!seen) {
		struct rw_caller_count first = {
			.count = 1, .first_ns = now, .last_ns = now, .first_tid = (__u32)bpf_get_current_pid_tgid(),
		};

		if (bpf_map_update_elem(&rw_callers, &key, &first, BPF_NOEXIST) == 0)
			return RW_FIRST_CALL;
		seen = bpf_map_lookup_elem(&rw_callers, &key); /* lost the race to insert, or full */
		if (!seen)
			return RW_CALLERS_FULL;
	}
	__sync_fetch_and_add(&seen->count, 1);
	seen->last_ns = now;
	rw_count(repeats);
	return RW_REPEAT;
}

/* A refused call nothing else can take: counted under its cgroup and
 * executable (rw_noise), or lost (counted) when that map is full too.
 * Global: verified once. */
__noinline int rw_aggregate_noise(__u64 now)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct rw_noise_key key = {
		.cgroup_id = bpf_get_current_cgroup_id(),
		.exe_ino = BPF_CORE_READ(inode, i_ino),
		.exe_dev = BPF_CORE_READ(inode, i_sb, s_dev),
	};
	struct rw_noise_count *group = bpf_map_lookup_elem(&rw_noise, &key);

	if (!group) {
		struct rw_noise_count fresh = {
			.first_ns = now, .pid = bpf_get_current_pid_tgid() >> 32, .uid = (__u32)bpf_get_current_uid_gid(),
		};

		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		bpf_map_update_elem(&rw_noise, &key, &fresh, BPF_NOEXIST);
		group = bpf_map_lookup_elem(&rw_noise, &key);
		if (!group) {
			rw_count(lost_bad_magic);
			return 0;
		}
	}
	__sync_fetch_and_add(&group->calls, 1);
	group->last_ns = now;
	rw_count(aggregated);
	return 0;
}

#endif
