/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one definition of what reboot-witness captures. The BPF programs fill
 * `struct rw_record` in the ring buffer; the Swift controller imports this
 * same header through the CWitness target, so the layout cannot drift.
 * Fixed-size arrays only: the record is built whole in a per-CPU scratch map
 * and copied into its ring buffer.
 */
#ifndef REBOOT_WITNESS_H
#define REBOOT_WITNESS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define RW_RECORD_VERSION 1
#define RW_COMM_LEN 16
#define RW_NAME_LEN 96      /* one path component (exe dentry or cgroup kernfs name) */
#define RW_EXE_DEPTH 8      /* exe path components kept, leaf first */
#define RW_CGROUP_DEPTH 8   /* cgroup path components kept, leaf first */
#define RW_V1_HIERARCHIES 16 /* cgroup v1 hierarchies searched for name=systemd */
#define RW_ARG_LEN 128      /* RESTART2 string, kernel_restart cmd, panic format, sysrq input */
#define RW_TTY_LEN 32

/* rw_intent_names' values: whose exec of that name is reported. */
enum rw_intent_whose {
	RW_INTENT_ANY = 1,
	RW_INTENT_PID1 = 2,         /* only the initial PID namespace's init */
};
#define RW_ANCESTRY 10
#define RW_STACK_DEPTH 24

/* reboot(2)'s magic numbers and commands (include/uapi/linux/reboot.h),
 * here because vmlinux.h carries no macros; BPF and Swift share them. */
enum rw_reboot_magic {
	RW_REBOOT_MAGIC1  = 0xfee1dead,
	RW_REBOOT_MAGIC2  = 672274793,
	RW_REBOOT_MAGIC2A = 85072278,
	RW_REBOOT_MAGIC2B = 369367448,
	RW_REBOOT_MAGIC2C = 537993216,
};

enum rw_reboot_cmd {
	RW_REBOOT_CMD_RESTART    = 0x01234567,
	RW_REBOOT_CMD_HALT       = 0xCDEF0123,
	RW_REBOOT_CMD_CAD_ON     = 0x89ABCDEF,
	RW_REBOOT_CMD_CAD_OFF    = 0x00000000,
	RW_REBOOT_CMD_POWER_OFF  = 0x4321FEDC,
	RW_REBOOT_CMD_RESTART2   = 0xA1B2C3D4,
	RW_REBOOT_CMD_SW_SUSPEND = 0xD000FCE2,
	RW_REBOOT_CMD_KEXEC      = 0x45584543,
};

/* Where a record came from. Append only: values are stored on disk. */
enum rw_probe {
	RW_PROBE_SYS_ENTER_REBOOT = 1,
	RW_PROBE_SYS_EXIT_REBOOT,
	RW_PROBE_X64_SYS_REBOOT,
	RW_PROBE_IA32_SYS_REBOOT,
	RW_PROBE_KERNEL_RESTART,
	RW_PROBE_KERNEL_HALT,
	RW_PROBE_KERNEL_POWER_OFF,
	RW_PROBE_EMERGENCY_RESTART,
	RW_PROBE_MACHINE_RESTART,
	RW_PROBE_NATIVE_MACHINE_EMERGENCY_RESTART,
	RW_PROBE_ORDERLY_REBOOT,
	RW_PROBE_ORDERLY_POWEROFF,
	RW_PROBE_HW_PROTECTION_SHUTDOWN,
	RW_PROBE_HW_PROTECTION_SHUTDOWN_612,  /* __hw_protection_shutdown */
	RW_PROBE_HW_PROTECTION_TRIGGER,       /* __hw_protection_trigger, 7.x */
	RW_PROBE_CTRL_ALT_DEL,
	RW_PROBE_DEFERRED_CAD,
	RW_PROBE_WRITE_SYSRQ_TRIGGER,
	RW_PROBE_SYSRQ_HANDLE_REBOOT,
	RW_PROBE_KERNEL_KEXEC,
	RW_PROBE_REBOOT_PID_NS,
	RW_PROBE_PANIC,
	RW_PROBE_VPANIC,
	RW_PROBE_SOFTDOG_FIRE,
	RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT,
	RW_PROBE_MODULE_LOAD,                 /* control event: a module appeared */
	RW_PROBE_WATCHDOG_OPEN,               /* watchdog hunt: who holds the device */
	RW_PROBE_WATCHDOG_RELEASE,            /* arg_int: 1 if closed with the magic 'V' */
	RW_PROBE_WATCHDOG_START,              /* hunt only: updates rw_watchdogs, no record */
	RW_PROBE_WATCHDOG_PING,               /* hunt only: updates rw_watchdogs, no record */
	RW_PROBE_EXEC_INTENT,                 /* exec of a reboot-family tool; arg = argv, NUL-separated, arg_int bytes */
	RW_PROBE__COUNT,
};

/* The sysrq keys that end the machine (drivers/tty/sysrq.c): the kernel side
 * files their writes as stopping records, the controller names the action. */
enum rw_sysrq_key {
	RW_SYSRQ_REBOOT   = 'b',    /* emergency restart, no sync */
	RW_SYSRQ_POWEROFF = 'o',
	RW_SYSRQ_CRASH    = 'c',    /* panic */
};

enum rw_attach {
	RW_ATTACH_TRACEPOINT = 1,
	RW_ATTACH_FENTRY,
	RW_ATTACH_KPROBE,
};

/* Bits of rw_record.flags. */
enum rw_flags {
	RW_F_LOGINUID_SET   = 1 << 0,
	RW_F_SESSIONID_SET  = 1 << 1,
	RW_F_INIT_PID_NS    = 1 << 2,
	RW_F_HAS_ARG        = 1 << 3,
	RW_F_CGROUP_V1      = 1 << 4,  /* cgroup path is a v1 hierarchy's: name=systemd, else memory */
	RW_F_HAS_RETVAL     = 1 << 5,
	RW_F_EXE_TRUNCATED  = 1 << 6,
	RW_F_ARG_FROM_USER  = 1 << 7,
	RW_F_HELD           = 1 << 8,  /* the call was denied; the controller replays it */
	RW_F_ARG_TRUNCATED  = 1 << 9,  /* argv longer than arg[] */
	RW_F_FINAL_WAIT     = 1 << 10, /* the caller waits in the kernel until the controller acks it */
	RW_F_SPILLED        = 1 << 11, /* came through rw_spill: rw_urgent was full */
};

/*
 * Which ring a record takes, so that noise never shares the fate of what
 * stops the machine. Stopping: reboot(2) with valid magic and a command
 * that restarts, halts, powers off or kexecs (in any PID namespace), every
 * kernel restart/halt/poweroff/panic path, a watchdog firing, sysrq b/o/c.
 * They go to rw_urgent, else to rw_spill, which the controller polls.
 * Everything else (bad magic, exec of reboot-family tools, exits, the
 * watchdog hunt, control events) goes to rw_events.
 */
enum rw_class {
	RW_CLASS_STOPPING = 1,
	RW_CLASS_BAD_MAGIC,         /* reboot(2) the kernel refuses: bad magic or an unknown command */
	RW_CLASS_EXEC,              /* exec of a reboot-family tool; its argv decides in the controller */
	RW_CLASS_OTHER,             /* exits, other reboot(2) commands, watchdog hunt, control events */
};

/*
 * Hold: while the controller's heartbeat is fresh, a reboot(2) that would
 * take the machine down is denied CAP_SYS_BOOT, made durable, and replayed
 * by the controller. A stale heartbeat (controller killed or hung) means no
 * hold at all: reboots must never depend on us being alive.
 */
#define RW_HOLD_HEARTBEAT_NS (750ULL * 1000 * 1000)

/* An executable the hold never applies to (fencing agents), as the kernel
 * names it: inode number and superblock dev_t (MKDEV: major << 20 | minor). */
struct rw_exe_id {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct rw_hold_state {
	__u64 heartbeat_ns;         /* controller's last CLOCK_BOOTTIME beat */
	__u32 controller_tgid;      /* its own (replayed) calls are never held */
	__u32 enabled;
};

/*
 * Repeats: a reboot(2) caller identical to one whose first call already went
 * through the ring buffer is only counted in the kernel (map rw_callers), so
 * a storm of a million calls per second costs counters, not records. The key
 * is finer than the store's dedup key (same executable dentry, same css_set,
 * same comm chain), so folding counts into stored records stays exact.
 */
struct rw_caller_key {
	__u64 exe_dentry;           /* kernel addresses: identities within one boot */
	__u64 exe_mnt;
	__u64 css_set;
	__u64 comm_chain;           /* FNV-1a of the caller's and its ancestors' comms */
	__u32 probe;
	__u32 cmd;
	__u32 magic1;
	__u32 magic2;
};

struct rw_caller_count {
	__u64 count;                /* calls so far, the one the ring carried included */
	__u64 first_ns;             /* boot_ns of the ring record: how the controller finds it */
	__u64 last_ns;
	__u32 first_tid;
	__u32 pad;
};

/* Per-CPU counters of every object (map rw_stats); the controller sums them. */
struct rw_counters {
	__u64 lost_stopping;        /* stopping records neither rw_urgent nor rw_spill could take */
	__u64 lost_bad_magic;       /* refused calls neither rw_events nor rw_noise could take */
	__u64 lost_exec;            /* exec records rw_events had no room for */
	__u64 lost_other;           /* other records rw_events had no room for */
	__u64 spilled;              /* stopping records that went through rw_spill */
	__u64 repeats;              /* calls counted in rw_callers instead of emitted */
	__u64 aggregated;           /* refused calls counted in rw_noise instead of emitted */
	__u64 unheld;               /* calls that should have been held, let through: no record could be made */
};

/*
 * Refused calls (bad magic) once rw_callers is full or rw_events has no
 * room: counted per cgroup and executable instead of dropped, so a flood of
 * distinct callers costs counters, not records.
 */
struct rw_noise_key {
	__u64 cgroup_id;
	__u64 exe_ino;
	__u32 exe_dev;              /* MKDEV of the exe's superblock */
	__u32 pad;
};

struct rw_noise_count {
	__u64 calls;
	__u64 first_ns;
	__u64 last_ns;
	__u32 pid;                  /* the first caller of the group */
	__u32 uid;
	char comm[RW_COMM_LEN];
};

/* A stopping record rw_urgent had no room for, until the controller drains it. */
struct rw_spill_key {
	__u64 boot_ns;
	__u32 tid;
	__u32 probe;
};

#define RW_BUILD_LEN 48

/*
 * Shared state the controller sets (map rw_config). Programs run only while
 * `generation` is the one they were loaded for (their rodata rw_generation):
 * an upgrade attaches the new programs beside the old ones, then moves
 * `generation` in one map write, so that exactly one set runs at any time.
 */
struct rw_config {
	__u32 generation;
	__u32 printk_lines;         /* arm --reboot2panic: also bpf_printk a one-line record */
	__u32 owner_tgid;           /* the arm draining the rings (0: none since a clean stop) */
	__u32 pad;
	char build[RW_BUILD_LEN];   /* the build whose programs are `generation` */
};

/*
 * Final stage: systemd-shutdown (PID 1) kills every process, remounts the
 * file systems read-only, then calls reboot(2) at once. The controller
 * survives the kill (argv[0] "@"), closes its store when PID 1 becomes
 * systemd-shutdown, and writes that last call into slots it reserved, on the
 * block device. The call itself is never denied (PID 1 would freeze): its
 * sys_enter waits in the kernel until the controller acknowledges the
 * record's boot_ns, or for budget_ns at most.
 */
struct rw_final_state {
	__u64 acked_ns;             /* boot_ns of the last record made durable */
	__u64 budget_ns;            /* longest wait; 0: final stage off */
	__u32 tgid;                 /* whose reboot(2) waits (1, or a test's stand-in) */
	__u32 pad;
};

/*
 * Watchdog hunt: the last keepalive of each watchdog device, by id, and of
 * any device under RW_WATCHDOG_ANY (softdog's timer cannot name its device).
 * When the watchdog fires, this names who stopped feeding it.
 */
#define RW_WATCHDOG_ANY 0xFFFFFFFFu

enum rw_watchdog_flags {
	RW_WD_CLOSED       = 1 << 0,  /* the last holder closed the device */
	RW_WD_MAGIC_CLOSE  = 1 << 1,  /* ...after writing the magic 'V' (watchdog stopped) */
};

struct rw_watchdog_state {
	__u64 last_ping_ns;         /* bpf_ktime_get_boot_ns() of the last keepalive */
	__u32 id;                   /* watchdog device id (watchdogN) */
	__u32 pings;
	__u32 pinger_tgid;
	__u32 pinger_tid;
	__u32 timeout_s;
	__u32 pretimeout_s;
	__u32 flags;                /* enum rw_watchdog_flags */
	__u32 pad;
	char pinger_comm[RW_COMM_LEN];
};

struct rw_ancestor {
	__u32 pid;                  /* tgid as seen from the init namespace */
	char comm[RW_COMM_LEN];
};

struct rw_record {
	__u16 version;
	__u16 probe;                /* enum rw_probe */
	__u16 attach;               /* enum rw_attach */
	__u16 flags;                /* enum rw_flags */
	__u64 boot_ns;              /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;            /* v2 id (bpf_get_current_cgroup_id) */
	__u64 cgroup_v1_id;         /* that v1 hierarchy's cgroup id (RW_F_CGROUP_V1), else 0 */
	__s64 retval;               /* sys_exit_reboot only */
	__u32 pid;                  /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 loginuid;
	__u32 sessionid;
	__u32 pid_ns;               /* inode of task_active_pid_ns() */
	__u32 magic1;
	__u32 magic2;
	__u32 cmd;
	__u32 arg_int;              /* sysrq key, orderly_poweroff force, reboot_pid_ns cmd */
	__u16 exe_depth;            /* components filled in exe[] */
	__u16 cgroup_depth;         /* components filled in cgroup[] */
	__u16 ancestry_len;
	__u16 reserved;             /* the emitting program's own scratch bits: meaningless to readers */
	__s32 stack_bytes;          /* bytes of kstack[] filled, or a negative errno */
	char comm[RW_COMM_LEN];
	char tty[RW_TTY_LEN];
	char arg[RW_ARG_LEN];
	char exe[RW_EXE_DEPTH][RW_NAME_LEN];       /* leaf first */
	char cgroup[RW_CGROUP_DEPTH][RW_NAME_LEN]; /* leaf first, root excluded */
	struct rw_ancestor ancestry[RW_ANCESTRY];  /* parent first */
	__u64 kstack[RW_STACK_DEPTH];
};

#endif /* REBOOT_WITNESS_H */
