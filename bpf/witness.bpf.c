// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every kernel path that restarts, halts or powers off the machine. The
 * controller decides per program whether it loads (feature probes), so one
 * object serves kernels with and without kprobes/fentry.
 */
#include "capture.bpf.h"
#include "final_stage.bpf.h"
#include "flood.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Threads whose reboot(2) entry went through a ring: only their exit does,
 * through the same ring (RW_EXIT_STOPPING: rw_urgent, where the EPERM of a
 * held call is kept whatever floods rw_events). */
#define RW_EXIT_ROUTINE 1
#define RW_EXIT_STOPPING 2

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} rw_exit_wanted SEC(".maps");

static __always_inline bool rw_valid_magic(__u32 magic1, __u32 magic2)
{
	return magic1 == RW_REBOOT_MAGIC1 &&
	       (magic2 == RW_REBOOT_MAGIC2 || magic2 == RW_REBOOT_MAGIC2A ||
		magic2 == RW_REBOOT_MAGIC2B || magic2 == RW_REBOOT_MAGIC2C);
}

static __always_inline bool rw_stopping_command(__u32 cmd)
{
	return cmd == RW_REBOOT_CMD_RESTART || cmd == RW_REBOOT_CMD_RESTART2 ||
	       cmd == RW_REBOOT_CMD_HALT || cmd == RW_REBOOT_CMD_POWER_OFF ||
	       cmd == RW_REBOOT_CMD_KEXEC;
}

static __always_inline bool rw_known_command(__u32 cmd)
{
	return rw_stopping_command(cmd) || cmd == RW_REBOOT_CMD_CAD_ON ||
	       cmd == RW_REBOOT_CMD_CAD_OFF || cmd == RW_REBOOT_CMD_SW_SUSPEND;
}

/* Would this call take the machine down, and may we hold it? Only calls the
 * kernel would accept (valid magic, a stopping command, the init PID
 * namespace), never the controller's own, and only while it is alive. */
/* Global (verified once, on its own): keeps the syscall program's own
 * verification small. */
__noinline int rw_should_hold(__u32 magic1, __u32 magic2, __u32 cmd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 key = 0;
	struct rw_hold_state *state;

	if (!rw_valid_magic(magic1, magic2) || !rw_stopping_command(cmd))
		return false;
	state = bpf_map_lookup_elem(&rw_hold_state, &key);
	if (!state || !state->enabled || bpf_get_current_pid_tgid() >> 32 == state->controller_tgid)
		return false;
	if (rw_final_waiter()) /* PID 1 in its final stage: a denied call would freeze it */
		return false;
	if (bpf_ktime_get_boot_ns() - state->heartbeat_ns > RW_HOLD_HEARTBEAT_NS)
		return false;
	if (BPF_CORE_READ(task, thread_pid, level) != 0) /* not the init PID namespace */
		return false;
	__u64 cgroup_id = bpf_get_current_cgroup_id();

	if (bpf_map_lookup_elem(&rw_allow_cgroup, &cgroup_id))
		return false;

	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct rw_exe_id exe = {
		.ino = BPF_CORE_READ(inode, i_ino),
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
	};

	return !bpf_map_lookup_elem(&rw_allow_exe, &exe);
}

/* Decisions rw_emit_reboot_syscall takes before the capture, kept in the
 * record's `reserved` bits rather than in registers: the verifier then walks
 * the attribution subprogram once, not once per combination of them. */
enum rw_emit_bits {
	RW_EMIT_STOPPING   = 1 << 0,
	RW_EMIT_REFUSED    = 1 << 1,
	RW_EMIT_REGISTERED = 1 << 2,   /* its first call is in rw_callers: forget it if not emitted */
};

/* reboot(2) entry: magic numbers, command, and RESTART2's user string.
 * Stopping calls take rw_urgent (else rw_spill); refused ones rw_events,
 * else rw_noise. A held call is held only once its record is out: with no
 * record, nothing would ever replay it. `may_wait`: the final stage's
 * caller waits here for its record (bpf_loop, 5.17+). */
static __always_inline int rw_emit_reboot_syscall(void *ctx, __u16 probe, __u16 attach,
						  __u64 magic1, __u64 magic2,
						  __u64 cmd, const void *user_arg, bool may_wait)
{
	__u64 now = bpf_ktime_get_boot_ns();
	bool valid = rw_valid_magic(magic1, magic2);
	bool refused = !valid || !rw_known_command(cmd);
	bool hold = attach == RW_ATTACH_TRACEPOINT && rw_should_hold(magic1, magic2, cmd);
	bool final_waiter = attach == RW_ATTACH_TRACEPOINT && rw_final_waiter();
	/* Held calls are replayed one by one, a final-stage call waits for its
	 * own record, and RESTART2 strings differ: never counted. */
	bool countable = !hold && !final_waiter && (__u32)cmd != RW_REBOOT_CMD_RESTART2;
	struct rw_final_state *final;
	__u64 budget_ns, id;
	struct rw_record *r;
	__u16 bits;
	bool out;
	int seen;

	if (rw_stands_by())
		return 0;
	seen = countable ? rw_count_repeat(probe, magic1, magic2, cmd, now) : RW_CALLERS_FULL;
	if (seen == RW_REPEAT)
		return 0;
	if (seen == RW_CALLERS_FULL && countable && refused)
		return rw_aggregate_noise(now);
	r = rw_begin(probe, attach);
	if (!r)
		return 0;
	r->boot_ns = now;
	r->magic1 = magic1;
	r->magic2 = magic2;
	r->cmd = cmd;
	r->reserved = (valid && rw_stopping_command(cmd) ? RW_EMIT_STOPPING : 0) |
		      (refused ? RW_EMIT_REFUSED : 0) | (seen == RW_FIRST_CALL ? RW_EMIT_REGISTERED : 0);
	if ((__u32)cmd == RW_REBOOT_CMD_RESTART2 && user_arg &&
	    bpf_probe_read_user_str(r->arg, sizeof(r->arg), user_arg) > 0)
		r->flags |= RW_F_HAS_ARG | RW_F_ARG_FROM_USER;
	if (hold)
		r->flags |= RW_F_HELD;
	/* Last, with nothing of the paths above still live: the verifier then
	 * checks the attribution subprogram once, not once per path. */
	rw_capture(ctx, r, attach != RW_ATTACH_TRACEPOINT);
	id = bpf_get_current_pid_tgid();
	bits = r->reserved;
	/* Decided again after the capture, for the same reason. */
	final = attach == RW_ATTACH_TRACEPOINT && may_wait ? rw_final_waiter() : NULL;
	budget_ns = final ? final->budget_ns : 0;
	if (budget_ns)
		r->flags |= RW_F_FINAL_WAIT;
	/* Marked before the record goes out: the controller may replay it at once. */
	if (r->flags & RW_F_HELD) {
		__u32 one = 1;

		if (bpf_map_update_elem(&rw_held, &id, &one, BPF_ANY) != 0)
			r->flags &= ~RW_F_HELD;
	}
	if (bits & RW_EMIT_STOPPING) {
		out = rw_submit_stopping(r, budget_ns ? BPF_RB_FORCE_WAKEUP : 0);
	} else {
		out = rw_submit_event(r);
		if (!out && (bits & RW_EMIT_REFUSED))
			rw_aggregate_noise(r->boot_ns);
		else if (!out)
			rw_count(lost_other);
	}
	if (!out) {
		/* Not held after all (no record to replay it from), and a
		 * registered caller's next call must be its first again. */
		if (r->flags & RW_F_HELD) {
			bpf_map_delete_elem(&rw_held, &id);
			rw_count(unheld);
		}
		if (bits & RW_EMIT_REGISTERED)
			rw_count_repeat(r->probe | RW_FORGET, r->magic1, r->magic2, r->cmd, 0);
		return 0;
	}
	if (attach == RW_ATTACH_TRACEPOINT) {
		__u32 ring = bits & RW_EMIT_STOPPING ? RW_EXIT_STOPPING : RW_EXIT_ROUTINE;

		bpf_map_update_elem(&rw_exit_wanted, &id, &ring, BPF_ANY);
	}
	if (budget_ns)
		rw_final_wait_for_ack(r->boot_ns, budget_ns);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_reboot")
int tp_sys_enter_reboot(struct trace_event_raw_sys_enter *ctx)
{
	return rw_emit_reboot_syscall(ctx, RW_PROBE_SYS_ENTER_REBOOT, RW_ATTACH_TRACEPOINT,
				      ctx->args[0], ctx->args[1], ctx->args[2],
				      (const void *)ctx->args[3], true);
}

/* The same without the final stage's wait: the loader picks this one where
 * the kernel has no bpf_loop (before 5.17); PID 1's last call is then
 * recorded, not waited for. */
SEC("tracepoint/syscalls/sys_enter_reboot")
int tp_sys_enter_reboot_nowait(struct trace_event_raw_sys_enter *ctx)
{
	return rw_emit_reboot_syscall(ctx, RW_PROBE_SYS_ENTER_REBOOT, RW_ATTACH_TRACEPOINT,
				      ctx->args[0], ctx->args[1], ctx->args[2],
				      (const void *)ctx->args[3], false);
}

/* Never fires for a call that took the machine (or namespace) down: its
 * absence after an entry is the outcome. */
SEC("tracepoint/syscalls/sys_exit_reboot")
int tp_sys_exit_reboot(struct trace_event_raw_sys_exit *ctx)
{
	struct rw_record *r;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 *wanted = bpf_map_lookup_elem(&rw_exit_wanted, &id);
	__u32 ring;

	if (!wanted)
		return 0; /* a counted repeat */
	ring = *wanted;
	bpf_map_delete_elem(&rw_exit_wanted, &id);
	bpf_map_delete_elem(&rw_held, &id);
	if (rw_stands_by())
		return 0;
	r = rw_begin(RW_PROBE_SYS_EXIT_REBOOT, RW_ATTACH_TRACEPOINT);
	if (!r)
		return 0;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->retval = ctx->ret;
	r->flags |= RW_F_HAS_RETVAL;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (ring == RW_EXIT_STOPPING)
		rw_submit_stopping(r, 0);
	else
		rw_submit_routine(r, false);
	return 0;
}

/* x86 syscall wrappers take the user pt_regs: 64-bit ABI di/si/dx/r10,
 * ia32 ABI bx/cx/dx/si. Compat callers never reach the syscall tracepoint. */
static __always_inline int rw_emit_x64(void *ctx, __u16 attach, struct pt_regs *regs)
{
	return rw_emit_reboot_syscall(ctx, RW_PROBE_X64_SYS_REBOOT, attach,
				      BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si),
				      BPF_CORE_READ(regs, dx), (void *)BPF_CORE_READ(regs, r10), false);
}

static __always_inline int rw_emit_ia32(void *ctx, __u16 attach, struct pt_regs *regs)
{
	return rw_emit_reboot_syscall(ctx, RW_PROBE_IA32_SYS_REBOOT, attach,
				      BPF_CORE_READ(regs, bx), BPF_CORE_READ(regs, cx),
				      BPF_CORE_READ(regs, dx), (void *)BPF_CORE_READ(regs, si), false);
}

SEC("fentry/__x64_sys_reboot")
int BPF_PROG(fentry___x64_sys_reboot, struct pt_regs *regs)
{ return rw_emit_x64(ctx, RW_ATTACH_FENTRY, regs); }

SEC("kprobe/__x64_sys_reboot")
int BPF_KPROBE(kprobe___x64_sys_reboot, struct pt_regs *regs)
{ return rw_emit_x64(ctx, RW_ATTACH_KPROBE, regs); }

SEC("fentry/__ia32_sys_reboot")
int BPF_PROG(fentry___ia32_sys_reboot, struct pt_regs *regs)
{ return rw_emit_ia32(ctx, RW_ATTACH_FENTRY, regs); }

SEC("kprobe/__ia32_sys_reboot")
int BPF_KPROBE(kprobe___ia32_sys_reboot, struct pt_regs *regs)
{ return rw_emit_ia32(ctx, RW_ATTACH_KPROBE, regs); }

RW_KFUNC_STR(kernel_restart, RW_PROBE_KERNEL_RESTART)
RW_KFUNC(kernel_halt, RW_PROBE_KERNEL_HALT)
RW_KFUNC(kernel_power_off, RW_PROBE_KERNEL_POWER_OFF)
RW_KFUNC(emergency_restart, RW_PROBE_EMERGENCY_RESTART)
RW_KFUNC_STR(machine_restart, RW_PROBE_MACHINE_RESTART)
RW_KFUNC(native_machine_emergency_restart, RW_PROBE_NATIVE_MACHINE_EMERGENCY_RESTART)
RW_KFUNC(orderly_reboot, RW_PROBE_ORDERLY_REBOOT)
RW_KFUNC_INT(orderly_poweroff, RW_PROBE_ORDERLY_POWEROFF)
RW_KFUNC_STR(hw_protection_shutdown, RW_PROBE_HW_PROTECTION_SHUTDOWN)
RW_KFUNC_STR_ACTION(__hw_protection_shutdown, RW_PROBE_HW_PROTECTION_SHUTDOWN_612)
RW_KFUNC_STR_ACTION(__hw_protection_trigger, RW_PROBE_HW_PROTECTION_TRIGGER)
RW_KFUNC(ctrl_alt_del, RW_PROBE_CTRL_ALT_DEL)
RW_KFUNC_INT(sysrq_handle_reboot, RW_PROBE_SYSRQ_HANDLE_REBOOT)
RW_KFUNC(kernel_kexec, RW_PROBE_KERNEL_KEXEC)
RW_KFUNC_STR(vpanic, RW_PROBE_VPANIC)

/* deferred_cad: with kernel.ctrl-alt-del = 1, Ctrl-Alt-Del restarts the
 * machine from this kworker at once, and no process made a call the hold
 * could stop. Where the controller armed the kernel-path wait (rw_final
 * with tgid 0), the kworker waits here for its record as PID 1's last call
 * does (bpf_loop, 5.17+; bounded by the budget): the restart comes that
 * much later, with the record durable. */
static __always_inline int rw_emit_kernel_waiting(void *ctx, __u16 probe, __u16 attach, const char *where)
{
	struct rw_record *r = rw_kernel_record(ctx, probe, attach, where, NULL, 0);
	struct rw_final_state *final;
	__u64 budget_ns;
	__u32 key = 0;

	if (!r)
		return 0;
	final = bpf_map_lookup_elem(&rw_final, &key);
	budget_ns = final && final->tgid == 0 ? final->budget_ns : 0;
	if (budget_ns)
		r->flags |= RW_F_FINAL_WAIT;
	if (rw_submit_stopping(r, budget_ns ? BPF_RB_FORCE_WAKEUP : 0) && budget_ns)
		rw_final_wait_for_ack(r->boot_ns, budget_ns);
	return 0;
}

SEC("fentry/deferred_cad")
int BPF_PROG(fentry_deferred_cad)
{ return rw_emit_kernel_waiting(ctx, RW_PROBE_DEFERRED_CAD, RW_ATTACH_FENTRY, "deferred_cad"); }

SEC("kprobe/deferred_cad")
int BPF_KPROBE(kprobe_deferred_cad)
{ return rw_emit_kernel_waiting(ctx, RW_PROBE_DEFERRED_CAD, RW_ATTACH_KPROBE, "deferred_cad"); }

/* Twins without the wait for kernels without bpf_loop (the loader picks them). */
SEC("fentry/deferred_cad")
int BPF_PROG(fentry_deferred_cad_nowait)
{ return rw_emit_kernel(ctx, RW_PROBE_DEFERRED_CAD, RW_ATTACH_FENTRY, "deferred_cad", NULL, 0); }

SEC("kprobe/deferred_cad")
int BPF_KPROBE(kprobe_deferred_cad_nowait)
{ return rw_emit_kernel(ctx, RW_PROBE_DEFERRED_CAD, RW_ATTACH_KPROBE, "deferred_cad", NULL, 0); }

/* reboot_pid_ns(struct pid_namespace *, int cmd): the command is the 2nd arg. */
SEC("fentry/reboot_pid_ns")
int BPF_PROG(fentry_reboot_pid_ns, void *ns, long cmd)
{ return rw_emit_kernel(ctx, RW_PROBE_REBOOT_PID_NS, RW_ATTACH_FENTRY, "reboot_pid_ns", NULL, (__u32)cmd); }

SEC("kprobe/reboot_pid_ns")
int BPF_KPROBE(kprobe_reboot_pid_ns, void *ns, long cmd)
{ return rw_emit_kernel(ctx, RW_PROBE_REBOOT_PID_NS, RW_ATTACH_KPROBE, "reboot_pid_ns", NULL, (__u32)cmd); }

/* panic() is variadic: fentry refuses it, so kprobe only (vpanic on 7.x). */
SEC("kprobe/panic")
int BPF_KPROBE(kprobe_panic, const char *fmt)
{ return rw_emit_kernel(ctx, RW_PROBE_PANIC, RW_ATTACH_KPROBE, "panic", fmt, 0); }

/* The writer of /proc/sysrq-trigger and the characters it wrote (the
 * buffer is not NUL-terminated: read `count` bytes, at most 15). */
static __always_inline int rw_emit_sysrq_write(void *ctx, __u16 attach, const char *ubuf, __u64 count)
{
	__u32 n = count < 15 ? count : 15;
	struct rw_record *r;
	char key;

	if (rw_stands_by())
		return 0;
	r = rw_begin(RW_PROBE_WRITE_SYSRQ_TRIGGER, attach);
	if (!r)
		return 0;
	rw_capture(ctx, r, true);
	if (n > 0 && bpf_probe_read_user(r->arg, n & 15, ubuf) == 0) {
		r->arg[n & 15] = 0;
		r->flags |= RW_F_HAS_ARG | RW_F_ARG_FROM_USER;
	}
	rw_printk_record("write_sysrq_trigger", r);
	/* b (reboot), o (power off), c (crash) stop the machine; the rest do not. */
	key = r->arg[0];
	if (key == RW_SYSRQ_REBOOT || key == RW_SYSRQ_POWEROFF || key == RW_SYSRQ_CRASH)
		rw_submit_stopping(r, 0);
	else
		rw_submit_routine(r, false);
	return 0;
}

SEC("fentry/write_sysrq_trigger")
int BPF_PROG(fentry_write_sysrq_trigger, void *file, const char *ubuf, __u64 count)
{ return rw_emit_sysrq_write(ctx, RW_ATTACH_FENTRY, ubuf, count); }

SEC("kprobe/write_sysrq_trigger")
int BPF_KPROBE(kprobe_write_sysrq_trigger, void *file, const char *ubuf, __u64 count)
{ return rw_emit_sysrq_write(ctx, RW_ATTACH_KPROBE, ubuf, count); }

/* Names (comm after exec: the basename, 15 bytes) of the tools whose exec may
 * be an intent to restart, halt or power off; the controller fills it. One
 * hash lookup is all that every other exec pays. The value says whose exec
 * counts: RW_INTENT_ANY anyone's, RW_INTENT_PID1 only the init process's
 * (systemd re-executing itself for a soft reboot; every user manager is a
 * "systemd" too). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[RW_COMM_LEN]);
	__type(value, __u8);
} rw_intent_names SEC(".maps");

/* In a graceful reboot, reboot(2) comes from PID 1 long after the request:
 * the exec of `reboot`, `systemctl reboot`, `shutdown`, `init 6`… is the
 * intent that names the human. argv is read from the new image's stack. */
SEC("tracepoint/sched/sched_process_exec")
int tp_sched_process_exec(void *ctx)
{
	char comm[RW_COMM_LEN] = {};
	struct task_struct *task;
	struct rw_record *r;
	unsigned long start, end;
	__u8 *whose;
	__u32 len;

	bpf_get_current_comm(comm, sizeof(comm));
	whose = bpf_map_lookup_elem(&rw_intent_names, comm);
	if (!whose || rw_stands_by())
		return 0;
	/* The init process of the machine: tgid 1 in the initial PID namespace. */
	if (*whose == RW_INTENT_PID1 && bpf_get_current_pid_tgid() >> 32 != 1)
		return 0;
	r = rw_begin(RW_PROBE_EXEC_INTENT, RW_ATTACH_TRACEPOINT);
	if (!r)
		return 0;
	rw_capture(ctx, r, false);
	task = (struct task_struct *)bpf_get_current_task();
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len >= RW_ARG_LEN) {
		len = RW_ARG_LEN - 1;
		r->flags |= RW_F_ARG_TRUNCATED;
	}
	r->arg_int = len;
	if (len > 0 && bpf_probe_read_user(r->arg, len & (RW_ARG_LEN - 1), (void *)start) == 0) {
		/* NUL-separated as in the process; arg_int says how much is argv. */
		r->arg[len & (RW_ARG_LEN - 1)] = 0;
		r->flags |= RW_F_HAS_ARG | RW_F_ARG_FROM_USER;
	}
	rw_submit_routine(r, true);
	return 0;
}

/* A module appeared: softdog/watchdog probes can attach now. */
SEC("tracepoint/module/module_load")
int tp_module_load(struct trace_event_raw_module_load___rw *ctx)
{
	struct rw_record *r;
	__u32 loc;

	if (rw_stands_by())
		return 0;
	r = rw_begin(RW_PROBE_MODULE_LOAD, RW_ATTACH_TRACEPOINT);
	if (!r)
		return 0;
	loc = BPF_CORE_READ(ctx, __data_loc_name);
	bpf_probe_read_kernel_str(r->arg, sizeof(r->arg), (void *)ctx + (loc & 0xFFFF));
	r->flags |= RW_F_HAS_ARG;
	rw_submit_routine(r, false);
	return 0;
}
