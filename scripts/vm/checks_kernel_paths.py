"""Checks of the ways a boot ends that begin inside the kernel or outside the
host: Ctrl-Alt-Del, the hardware (thermal) protection, kexec, the BMC."""
import json

from scenario_output import previous_boot, verdict, first, boot_ids, records

HW_PROTECTION = ("hw_protection_shutdown", "__hw_protection_shutdown", "__hw_protection_trigger")


def high(sections):
    v = json.loads(sections["last"])
    assert v["confidence"] == "high", f"{v['bootstat']} at {v['confidence']}: {v['summary']}"
    assert v["initiator"] is None, f"no process asked: {v['initiator']}"
    return v


def check_thermal(sections, console, kernel):
    previous = previous_boot(sections, console)
    trip = first(previous, "the hardware-protection record", lambda r: r["probe"] in HW_PROTECTION)
    assert trip["cmd_arg"] == "Temperature too high", f"{trip['probe']}: {trip['cmd_arg']!r}"
    # (orderly_poweroff is inlined into hw_protection_shutdown on some builds: its fentry sees only outside calls)
    orderly = [r for r in previous if r["probe"] == "orderly_poweroff"]
    helper = first(previous, "the /sbin/poweroff the kernel started", lambda r: r["probe"] == "sched_process_exec" and r["comm"] == "poweroff")
    logged = sections.get("kernel-log", "")
    assert "HARDWARE PROTECTION shutdown (Temperature too high)" in logged, f"kernel log of the ended boot: {logged}"
    last = verdict(sections, "poweroff", "thermal")
    v = high(sections)
    assert "Temperature too high" in v["summary"], v["summary"]
    return "PASS", (f"{last}; {trip['probe']}(\"{trip['cmd_arg']}\") by {trip['comm']}, "
                    f"{'orderly_poweroff, ' if orderly else ''}then {helper['cmd_arg'] or 'poweroff'} and PID 1's power-off")


def check_cad_pid1(sections, console, kernel):
    previous = previous_boot(sections, console)
    key = first(previous, "the ctrl_alt_del record", lambda r: r["probe"] == "ctrl_alt_del")
    assert not [r for r in previous if r["probe"] == "deferred_cad"], "kernel.ctrl-alt-del = 0: the kernel must not restart by itself"
    last = verdict(sections, "reboot", "cad")
    v = high(sections)
    assert "PID 1 was signalled" in v["summary"], v["summary"]
    return "PASS", f"{last}; ctrl_alt_del in {key['context']} context ({key['comm']}), then PID 1's reboot"


def check_cad_kernel(sections, console, kernel):
    previous = previous_boot(sections, console)
    key = first(previous, "the ctrl_alt_del record", lambda r: r["probe"] == "ctrl_alt_del")
    deferred = first(previous, "the deferred_cad record (durable before the restart)", lambda r: r["probe"] == "deferred_cad")
    assert deferred["final_stage"], f"deferred_cad did not wait for its record: {deferred}"
    last = verdict(sections, "reboot", "cad")
    v = high(sections)
    assert "kernel.ctrl-alt-del = 1" in v["summary"], v["summary"]
    assert "shutdown" not in " ".join(r["probe"] for r in previous if r["pid"] == 1), "no orderly shutdown ran"
    return "PASS", f"{last}; ctrl_alt_del ({key['context']}), deferred_cad by {deferred['comm']} waited for its record"


def check_kexec(sections, console, kernel):
    boots = boot_ids(console)
    assert len(boots) == 3 and len(set(boots)) == 3, f"expected three boots (kexec -e, then systemctl kexec): {boots}"
    stored = records(sections)
    first_boot = [r for r in stored if r["boot_id"] == boots[0]]
    call = first(first_boot, "kexec's reboot(2) KEXEC", lambda r: r["probe"] == "sys_enter_reboot" and r["cmd"] == "KEXEC")
    assert call["comm"] == "kexec" and call["held"], f"{call['comm']}: held {call['held']}"
    # kernel_kexec fires after the held call is replayed; the jump follows at once, so its record may not land.
    jumped = [r for r in first_boot if r["probe"] == "kernel_kexec"]
    for name in ("cmdline-1", "cmdline"):
        assert "rw.scenario=kexec" in sections.get(name, "") and "memmap" not in sections[name], \
            f"{name}: not the kexec'ed kernel: {sections.get(name)}"
    direct = json.loads(sections["last-kexec-e"])
    assert (direct["bootstat"], direct["confidence"], (direct["initiator"] or {}).get("comm")) == \
        ("kexec,service,rw-scenario.service", "high", "kexec"), f"kexec -e: {direct['bootstat']}: {direct['summary']}"
    last = verdict(sections, "kexec", "service", "rw-scenario.service")
    v = json.loads(sections["last"])
    assert v["confidence"] == "high" and (v["initiator"] or {}).get("comm") == "systemctl", (v["confidence"], v["initiator"])
    for said in (direct, v):
        loaded = [e["excerpt"] for e in said["evidence"] if e["excerpt"].startswith("image loaded by kexec[")]
        assert loaded and "/boot/vmlinuz-" in loaded[0], f"no loaded image in the evidence: {said['evidence']}"
    second = [r for r in stored if r["boot_id"] == boots[1]]
    # systemd-shutdown does not call reboot(2) KEXEC itself: it forks kexec-tools' `kexec -e`.
    step = first(second, "the reboot(2) KEXEC of PID 1's `kexec -e`",
                 lambda r: r["probe"] == "sys_enter_reboot" and r["cmd"] == "KEXEC"
                 and [a["comm"] for a in r["ancestry"][:1]] == ["systemd-shutdow"])
    assert step["held"], f"PID 1's kexec -e was not held until its record was durable: {step}"
    return "PASS", (f"kexec -e: {direct['bootstat']}, kexec[{call['pid']}] held until durable"
                    f"{', kernel_kexec recorded' if jumped else ''}; systemctl kexec: {last}, systemd-shutdown's "
                    f"kexec[{step['pid']}] held; both name the image kexec -l loaded")


def check_kexec_cgroup_v1(sections, console, kernel):
    # The unified hierarchy unmounted and unused ("0::/": every process in its root); a new
    # unit in systemd's own v1 hierarchy, and in the memory controller's root (no accounting).
    layout = sections.get("cgroups", "").split()
    assert layout[:1] == ["tmpfs"] and [l for l in layout if l.startswith("0::")] in ([], ["0::/"]) \
        and [l for l in layout if ":name=systemd:/system.slice/run-" in l] \
        and [l for l in layout if l.endswith(":memory:/")], f"the guest did not run as CentOS 7 lays cgroups out: {layout}"
    previous = previous_boot(sections, console)
    assert "rw.scenario=kexec-cgroup-v1" in sections.get("cmdline", ""), f"not the kexec'ed kernel: {sections.get('cmdline')}"
    bus = [r for r in previous if r["probe"] == "dbus"]
    assert not bus, f"the D-Bus monitor was to be off: {[(r['comm'], r['cmd']) for r in bus]}"
    kexecs = [r for r in previous if r["probe"] == "sched_process_exec" and r["cmd"] == "KEXEC" and r["comm"] == "systemctl"]
    units = {r["cgroup"]: r for r in kexecs}
    assert set(units) == {"/system.slice/rw-scenario.service", "/system.slice/systemd-kexec.service"} \
        and all(r["cgroup_v1"] for r in kexecs), f"systemctl kexec records: {[(r['pid'], r['cgroup'], r['cgroup_v1']) for r in kexecs]}"
    last = verdict(sections, "kexec", "service", "rw-scenario.service")
    v = json.loads(sections["last"])
    asked = units["/system.slice/rw-scenario.service"]
    assert (v["initiator"] or {}).get("pid") == asked["pid"], \
        f"named {v['initiator']}, not the caller's systemctl[{asked['pid']}] (PID 1's is {units['/system.slice/systemd-kexec.service']['pid']})"
    return "PASS", (f"{last}; cgroup v1 only, no D-Bus monitor: systemctl[{asked['pid']}] in rw-scenario.service named, "
                    f"systemd-kexec.service's systemctl[{units['/system.slice/systemd-kexec.service']['pid']}] passed over")


def check_bmc_watchdog(sections, console, kernel):
    previous = previous_boot(sections, console)
    assert not [r for r in previous if r["probe"] in ("sys_enter_reboot", "kernel_restart")], \
        f"the BMC resets the machine: no reboot path runs, yet {[r['probe'] for r in previous]}"
    last = verdict(sections, "hard_reset", "bmc_watchdog")
    v = json.loads(sections["last"])
    bmc = [e for e in v["evidence"] if e["source"] == "bmc"]
    said = [e["excerpt"] for e in bmc if e["stance"] == "supports"]
    assert said, f"no BMC evidence supports it: {v['evidence']}"
    return "PASS", f"{last}; the BMC says: {said[0]}; notes: {'; '.join(e['excerpt'] for e in bmc if e['stance'] == 'note') or 'none'}"
