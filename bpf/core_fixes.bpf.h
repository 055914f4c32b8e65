/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel fields that were renamed or moved. One object must load on every
 * kernel we support, so each fix is a CO-RE flavor pair resolved at load time
 * (bpf_core_field_exists is a constant after relocation; the dead branch is
 * removed by the verifier). Never LINUX_VERSION_CODE.
 */
#ifndef REBOOT_WITNESS_CORE_FIXES_BPF_H
#define REBOOT_WITNESS_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * kernfs: "kernfs: Use RCU to access kernfs_node::parent." (v6.15) renamed
 * kernfs_node::parent to __parent so that readers go through the RCU
 * accessors. Debian 6.1 and 6.12 have `parent`; 6.18 and 7.x have `__parent`.
 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *rw_kernfs_parent(struct kernfs_node *kn)
{
	struct kernfs_node___new *n = (void *)kn;

	if (bpf_core_field_exists(n->__parent))
		return BPF_CORE_READ(n, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/*
 * module tracepoint context. The raw struct is generated per kernel and is
 * absent from a vmlinux.h made on a kernel built without CONFIG_MODULES (our
 * CI host); the flavor lets CO-RE find trace_event_raw_module_load wherever
 * the running kernel has it.
 */
struct trace_event_raw_module_load___rw {
	struct trace_entry ent;
	unsigned int taints;
	__u32 __data_loc_name;
} __attribute__((preserve_access_index));

#endif /* REBOOT_WITNESS_CORE_FIXES_BPF_H */
