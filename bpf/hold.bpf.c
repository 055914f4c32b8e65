// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The hold: deny CAP_SYS_BOOT to a thread whose reboot(2) sys_enter_reboot
 * marked in rw_held (see witness.bpf.c). The controller loads one of these
 * two programs: the BPF LSM hook where `bpf` is an active LSM, else fmod_ret
 * on security_capable (works with the bpf LSM inactive; it costs a
 * trampoline on every capability check).
 */
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define CAP_SYS_BOOT 22
#define EPERM 1

static __always_inline int rw_hold_verdict(int cap)
{
	__u64 id;
	__u32 key = 0;
	struct rw_hold_state *state;

	if (cap != CAP_SYS_BOOT || rw_stands_by())
		return 0;
	id = bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&rw_held, &id))
		return 0;
	/* Fail open if the controller died between the mark and this check. */
	state = bpf_map_lookup_elem(&rw_hold_state, &key);
	if (!state || !state->enabled ||
	    bpf_ktime_get_boot_ns() - state->heartbeat_ns > RW_HOLD_HEARTBEAT_NS)
		return 0;
	return -EPERM;
}

SEC("lsm/capable")
int BPF_PROG(lsm_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	if (ret)
		return ret;
	return rw_hold_verdict(cap);
}

SEC("fmod_ret/security_capable")
int BPF_PROG(fmod_ret_security_capable, const struct cred *cred, struct user_namespace *ns,
	     int cap, unsigned int opts, int ret)
{
	if (ret)
		return ret;
	return rw_hold_verdict(cap);
}
