/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who the current task is, read in the kernel at probe time: its
 * executable, cgroup (v2, else systemd's or the memory controller's v1
 * hierarchy), PID namespace, ancestry, identity and tty. Included once,
 * by capture.bpf.h.
 */
#ifndef REBOOT_WITNESS_ATTRIBUTION_BPF_H
#define REBOOT_WITNESS_ATTRIBUTION_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "witness.h"
#include "core_fixes.bpf.h"

/* Whether this host has cgroup v1 hierarchies (set before load): where it
 * has none, the verifier prunes the v1 search, which costs every program
 * load time (see rw_fill_cgroup). */
const volatile __u32 rw_cgroup_v1 = 0;

static __always_inline void rw_fill_exe(struct rw_record *r, struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *d;
	int depth = 0;

	if (!exe)
		return;
	d = BPF_CORE_READ(exe, f_path.dentry);
	vfsmnt = BPF_CORE_READ(exe, f_path.mnt);
	mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);

	/* Walk to the global root, crossing mount points, so that an exe inside
	 * a container's overlay shows its host path. */
	for (int i = 0; i < RW_EXE_DEPTH + 6; i++) {
		if (d == BPF_CORE_READ(vfsmnt, mnt_root)) {
			struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

			if (parent == mnt)
				break;
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = parent;
			vfsmnt = (void *)mnt + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		struct dentry *up = BPF_CORE_READ(d, d_parent);

		if (up == d)
			break;
		if (depth >= RW_EXE_DEPTH) {
			r->flags |= RW_F_EXE_TRUNCATED;
			break;
		}
		bpf_probe_read_kernel_str(r->exe[depth], RW_NAME_LEN, BPF_CORE_READ(d, d_name.name));
		depth++;
		d = up;
	}
	r->exe_depth = depth;
}

static __always_inline int rw_fill_kernfs_path(struct rw_record *r, struct kernfs_node *kn)
{
	int depth = 0;

	for (int i = 0; i < RW_CGROUP_DEPTH; i++) {
		struct kernfs_node *up;

		if (!kn)
			break;
		up = rw_kernfs_parent(kn);
		if (!up) /* the hierarchy root has no name worth keeping */
			break;
		bpf_probe_read_kernel_str(r->cgroup[depth], RW_NAME_LEN, BPF_CORE_READ(kn, name));
		depth++;
		kn = up;
	}
	return depth;
}

/* systemd's own v1 hierarchy (name=systemd), found among the task's
 * css_set links: it has every unit's cgroup, whatever the controllers'
 * accounting (systemd-reboot.service's `systemctl --force reboot` on
 * systemd 219 sits in the memory controller's root). */
static __always_inline struct kernfs_node *rw_v1_systemd_kn(struct css_set *cset)
{
	struct list_head *head = &cset->cgrp_links;
	struct list_head *pos = BPF_CORE_READ(cset, cgrp_links.next);

	for (int i = 0; i < RW_V1_HIERARCHIES; i++) {
		struct cgrp_cset_link *link;
		struct cgroup *cgrp;
		struct cgroup_root *root;
		char name[9] = {}; /* 8 bytes read: "systemd" and its NUL, not a longer name's prefix */

		if (!pos || pos == head)
			break;
		link = (void *)pos - bpf_core_field_offset(struct cgrp_cset_link, cgrp_link);
		cgrp = BPF_CORE_READ(link, cgrp);
		root = BPF_CORE_READ(cgrp, root);
		bpf_core_read_str(name, sizeof(name), &root->name);
		if (name[0] == 's' && name[1] == 'y' && name[2] == 's' && name[3] == 't' && name[4] == 'e' &&
		    name[5] == 'm' && name[6] == 'd' && name[7] == 0)
			return BPF_CORE_READ(cgrp, kn);
		pos = BPF_CORE_READ(pos, next);
	}
	return NULL;
}

/* The v1 memory controller's cgroup, or NULL. */
static __always_inline struct kernfs_node *rw_v1_memory_kn(struct css_set *cset)
{
	struct cgroup_subsys_state *css = NULL;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return NULL;
	int idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (idx < 0 || idx >= 16)
		return NULL;
	bpf_core_read(&css, sizeof(css), &cset->subsys[idx]);
	return css ? BPF_CORE_READ(css, cgroup, kn) : NULL;
}

/* On a cgroup v1 host, for a task in the v2 root: systemd's hierarchy;
 * else (no systemd) the memory controller's, where container runtimes put
 * their tasks (runc joins name=systemd too, under the same path).
 * __noinline: its loops are walked by the verifier only where the call is
 * reached, and never multiply the states of the caller's rest. */
static __noinline void rw_fill_cgroup_v1(struct rw_record *r, struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct kernfs_node *kn = rw_v1_systemd_kn(cset);

	r->cgroup_depth = rw_fill_kernfs_path(r, kn);
	if (!r->cgroup_depth) {
		kn = rw_v1_memory_kn(cset);
		r->cgroup_depth = rw_fill_kernfs_path(r, kn);
	}
	if (r->cgroup_depth) {
		r->flags |= RW_F_CGROUP_V1;
		r->cgroup_v1_id = BPF_CORE_READ(kn, id);
	}
}

static __always_inline void rw_fill_cgroup(struct rw_record *r, struct task_struct *task)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);

	r->cgroup_id = bpf_get_current_cgroup_id();
	r->cgroup_depth = rw_fill_kernfs_path(r, kn);
	if (rw_cgroup_v1 && !r->cgroup_depth)
		rw_fill_cgroup_v1(r, task);
}

static __always_inline void rw_fill_pid_ns(struct rw_record *r, struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct pid_namespace *ns = NULL;

	/* task_active_pid_ns(): the namespace reboot(2) acts on. */
	bpf_core_read(&ns, sizeof(ns), &pid->numbers[level & 31].ns);
	r->pid_ns = BPF_CORE_READ(ns, ns.inum);
	if (level == 0)
		r->flags |= RW_F_INIT_PID_NS;
}

static __always_inline void rw_fill_ancestry(struct rw_record *r, struct task_struct *task)
{
	struct task_struct *p = BPF_CORE_READ(task, real_parent);
	int n = 0;

	r->ppid = BPF_CORE_READ(p, tgid);
	for (int i = 0; i < RW_ANCESTRY; i++) {
		__u32 tgid = BPF_CORE_READ(p, tgid);

		if (!p || tgid == 0) /* reached the idle task */
			break;
		r->ancestry[i].pid = tgid;
		BPF_CORE_READ_STR_INTO(&r->ancestry[i].comm, p, comm);
		n++;
		struct task_struct *up = BPF_CORE_READ(p, real_parent);

		if (up == p)
			break;
		p = up;
	}
	r->ancestry_len = n;
}

static __always_inline void rw_fill_identity(struct rw_record *r, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ugid = bpf_get_current_uid_gid();

	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->uid = (__u32)ugid;
	r->gid = ugid >> 32;
	r->euid = BPF_CORE_READ(task, cred, euid.val);
	bpf_get_current_comm(r->comm, sizeof(r->comm));

	if (bpf_core_field_exists(task->loginuid)) {
		r->loginuid = BPF_CORE_READ(task, loginuid.val);
		if (r->loginuid != (__u32)-1)
			r->flags |= RW_F_LOGINUID_SET;
		r->sessionid = BPF_CORE_READ(task, sessionid);
		if (r->sessionid != (__u32)-1)
			r->flags |= RW_F_SESSIONID_SET;
	}

	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);

	if (tty)
		BPF_CORE_READ_STR_INTO(&r->tty, tty, name);
}

#endif /* REBOOT_WITNESS_ATTRIBUTION_BPF_H */
