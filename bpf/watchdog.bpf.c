// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watchdog fire paths. They live in modules (softdog, watchdog core), which
 * may be loaded after `arm` started, so this object is loaded separately,
 * sharing the main object's ring buffer. A timer fires them: the current task
 * is whoever was interrupted, and the kernel stack is the real witness.
 */
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "GPL";

RW_KFUNC(softdog_fire, RW_PROBE_SOFTDOG_FIRE)
RW_KFUNC(watchdog_notify_pretimeout, RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT)
