"""Checks of the systemd-guest scenarios: systemctl reboot, the never-armed
host, the package lifecycle and the next-boot preflight."""
import json
import re

from scenario_output import (CONTAINER_ID, objects, records, status, kernel_version, boot_ids, verdict, first)


def check_systemctl_reboot(sections, console, kernel):
    boots = boot_ids(console)
    assert len(boots) == 2 and boots[0] != boots[1], f"expected two boots, saw {boots}"
    previous = [r for r in records(sections) if r["boot_id"] == boots[0]]
    intent = first(previous, "systemctl reboot intent", lambda r: r["probe"] == "sched_process_exec" and r["comm"] == "systemctl")
    assert intent["cmd"] == "RESTART" and intent["container"] == {"runtime": "docker", "id": CONTAINER_ID}, intent
    last = verdict(sections, "reboot", "container", CONTAINER_ID[:12])
    v = json.loads(sections["last"])
    assert v["initiator"] and v["initiator"]["comm"] == "systemctl", v["initiator"]
    bus = [r for r in previous if r["probe"] == "dbus"]
    # logind's relay (StartUnit reboot.target) is vouched for by the bus; systemctl's own call is not logind's.
    relay = first(bus, "logind's StartUnit relay", lambda r: r["comm"] == "systemd-logind")
    assert relay["sender_owns_login1"] is True, relay
    callers = [r for r in bus if r["comm"] == "systemctl"]
    assert callers and all(r["sender_owns_login1"] is False for r in callers), bus
    pid1 = first(previous, "PID 1's systemd-shutdown record", lambda r: r["pid"] == 1 and r["probe"] == "sched_process_exec")
    assert pid1["cmd"] == "RESTART" and (pid1.get("initiator") or {}).get("comm") == "systemctl", \
        f"PID 1's systemd-shutdown is not linked to the systemctl intent: {pid1.get('initiator')}"
    assert any(e["excerpt"].startswith("PID 1 went on") for e in v["evidence"]), v["evidence"]
    journal_summary = check_journal_entries(sections, boots[0])
    if kernel_version(kernel) < (5, 17):
        # No bpf_loop: PID 1's reboot(2) cannot wait for its record, which may or may not land; status says so.
        plan = status(sections).get("final_stage") or {}
        wait = plan.get("kernel_wait") or {}
        assert wait.get("state") == "unavailable" and "no bpf_loop" in (wait.get("reason") or ""), f"final stage plan on {kernel}: {plan}"
        finals = [r for r in previous if r["pid"] == 1 and r["probe"] == "sys_enter_reboot"]
        return "PASS", (f"{last}; intent systemctl[{intent['pid']}] in the container; PID 1's `{pid1['cmd_arg'][:40]}` "
                        f"linked to it; no bpf_loop: PID 1's reboot(2) not waited for ({'stored anyway' if finals else 'not stored'}); "
                        + journal_summary)
    # The final stage: PID 1's own reboot(2), written after the store was closed.
    final = first(previous, "PID 1's reboot(2) (final stage)", lambda r: r["pid"] == 1 and r["probe"] == "sys_enter_reboot")
    assert final["cmd"] == "RESTART" and final["final_stage"] and final["comm"].startswith("systemd-shutdow"), final
    assert (final.get("initiator") or {}).get("comm") == "systemctl", \
        f"PID 1's reboot(2) is not linked to the systemctl intent: {final.get('initiator')}"
    assert "final stage: written through the block device" in sections["dump-human"], sections["dump-human"][-600:]
    # With arm alive (and spared), systemd-shutdown still got / read-only and the next mount needed no recovery.
    log = sections["shutdown-log"]
    # (systemd says so only once / is read-only; 6.12's ext4 also says "re-mounted <uuid> ro", 6.1's does not)
    assert "All filesystems unmounted" in log, log
    assert "Failed to" not in log and "recovery complete" not in log, log
    released = re.search(r"reboot-witness: final stage: .*record durable, released after ([0-9.]+) ms", log)
    assert released, f"no release line in the last boot's kernel log: {log[-600:]}"
    return "PASS", (f"{last}; intent systemctl[{intent['pid']}] in the container, D-Bus calls seen: {len(bus)}; "
                    f"PID 1's `{pid1['cmd_arg'][:40]}` and its reboot(2) (final stage, waited {released.group(1)} ms) linked to it; "
                    + journal_summary)


def check_journal_entries(sections, ended_boot):
    """The records of the boot that ended, as structured journal entries, and
    the verdict on it logged when arm started again, with its catalog text."""
    records = [json.loads(l) for l in sections.get("journal-record", "").splitlines() if l.startswith("{")]
    intent = [r for r in records if r.get("REBOOT_WITNESS_COMM") == "systemctl" and r.get("REBOOT_WITNESS_CMD") == "RESTART"]
    assert intent, f"no journal entry for the systemctl intent among {len(records)}"
    assert intent[0].get("REBOOT_WITNESS_CONTAINER_ID") == CONTAINER_ID, intent[0]
    assert intent[0].get("REBOOT_WITNESS_PROBE") == "sched_process_exec", intent[0]
    verdicts = [json.loads(l) for l in sections.get("journal-verdict", "").splitlines() if l.startswith("{")]
    assert len(verdicts) == 1, f"one verdict entry at start, saw {len(verdicts)}"
    v = verdicts[0]
    assert v.get("REBOOT_WITNESS_BOOT_ID_ENDED") == ended_boot, v
    assert v.get("REBOOT_WITNESS_BOOTSTAT") == f"reboot,container,{CONTAINER_ID[:12]}", v
    catalog = sections.get("journal-catalog", "")
    assert f"Boot {ended_boot} ended: reboot,container,{CONTAINER_ID[:12]}" in catalog, catalog[-600:]
    return f"journal: {len(records)} record entries, the verdict entry with its catalog text"


def never_armed(sections, console):
    """`last --json` of a scenario where the witness never ran: its verdict, after the common checks."""
    boots = boot_ids(console)
    assert len(boots) == 2 and boots[0] != boots[1], f"expected two boots, saw {boots}"
    assert "No such file" in sections.get("store", ""), f"`last` must not create a store: {sections.get('store')}"
    v = json.loads(sections["last"])
    assert v["boot_id"] == boots[0], f"last judged {v['boot_id']}, the boot that ended is {boots[0]}"
    assert v["confidence"] != "high", "never high without a witness record"
    notes = [e["excerpt"] for e in v["evidence"] if e["stance"] == "note"]
    assert any("never armed" in n for n in notes), notes
    listed = [json.loads(l) for l in sections.get("last-list", "").splitlines() if l.startswith("{")]
    assert [l["boot_id"] for l in listed[:2]] == [boots[1], boots[0]] and listed[0]["current"], \
        f"--list: {[(l['boot_id'], l['current']) for l in listed]}"
    assert listed[1]["bootstat"] == v["bootstat"], (listed[1]["bootstat"], v["bootstat"])
    return v


def check_never_armed_sudo(sections, console, kernel):
    v = never_armed(sections, console)
    assert (v["reason"], v["subreason"], v["detail"]) == ("reboot", "user", "alice"), f"last says {v['bootstat']}: {v['summary']}"
    assert v["confidence"] == "medium", v["confidence"]
    i = v["initiator"] or {}
    assert (i.get("ssh_peer") or "").startswith("127.0.0.1:"), f"ssh client: {i}"
    assert i.get("argv") == "/usr/sbin/reboot" and (i.get("tty") or "").startswith("pts/"), i
    return "PASS", f"last: {v['bootstat']} ({v['confidence']}), ssh from {i['ssh_peer']} on {i['tty']}, from the journal alone"


def check_never_armed_reset(sections, console, kernel):
    v = never_armed(sections, console)
    assert (v["reason"], v["subreason"]) == ("hard_reset", "no_shutdown_path"), f"last says {v['bootstat']}: {v['summary']}"
    assert v["confidence"] == "medium", f"the next boot's recovery makes it medium: {v['confidence']}"
    support = [e["excerpt"] for e in v["evidence"] if e["stance"] == "supports"]
    assert any("the journal ends with no shutdown sequence" in e for e in support), support
    assert any("recovery complete" in e or "uncleanly shut down" in e for e in support), support
    mark = re.search(r"@@RW-MARK@@ (\S+)", console).group(1)
    assert v["last_seen"][:16] == mark[:16], f"last seen {v['last_seen']}, last words written at {mark}"
    return "PASS", f"last: {v['bootstat']} ({v['confidence']}), last seen {v['last_seen']}; " \
                   f"{sum('next boot' in e for e in support)} recovery line(s) at the next boot"


def check_package_lifecycle(sections, console, kernel):
    armed = re.search(r"\[\s*([0-9.]+)\]", sections.get("armed-at", ""))
    assert armed, f"no 'armed' line from the unit in this boot's journal: {sections.get('armed-at')}"
    before, after = status(sections, "before-upgrade"), status(sections, "after-upgrade")
    assert before["store"]["armed_pid"] and after["store"]["armed_pid"], (before["store"], after["store"])
    assert before["store"]["armed_pid"] != after["store"]["armed_pid"], "the upgrade did not restart the witness"
    pid = int(re.search(r"pid=(\d+)", sections["record-before"]).group(1))
    kept = [o for o in objects({"dump": sections["dump-after-upgrade"]}) if o.get("pid") == pid]
    assert kept and kept[0]["probe"] == "sys_enter_reboot", f"the record made before the upgrade is gone: pid {pid}"
    # Calls made all through the restart: the pinned capture bridged it, the new arm adopted it.
    refused = sum(o["count"] for o in objects({"dump": sections["dump-after-upgrade"]}) if o.get("cmd") == "INVALID")
    assert refused == 61, f"calls across the upgrade: {refused} stored of 61"
    assert after["capture"]["pinning"]["lifecycle"] == "adopted", after["capture"]["pinning"]
    # (systemd's own cgroup programs are named sd_*)
    ours = {n for n in sections["programs-armed"].split() if n != "name" and not n.startswith("sd_")}
    assert ours, "bpftool saw none of our programs while armed"
    removed = sections["after-remove"]
    state, _, rest = removed.partition("\n")
    assert state.strip() in ("inactive", "failed", "unknown"), f"the unit still runs after dpkg -r: {state}"
    left = ours & set(rest.split("links:")[0].split())
    assert not left, f"programs left attached after dpkg -r: {sorted(left)}"
    pins = rest.split("pins:")[1].split("store:")[0].split()
    assert not pins, f"pins left in /sys/fs/bpf: {pins}"
    assert "witness.store" in rest.split("store:")[1], f"dpkg -r must keep the store: {rest}"
    purged = sections["after-purge"]
    assert "No such file" in purged and "no binary" in purged, purged
    return "PASS", (f"armed {float(armed.group(1)):.1f} s after kernel start; upgrade restarted pid {before['store']['armed_pid']} → "
                    f"{after['store']['armed_pid']} adopting the pinned capture, 61 of 61 calls stored across it; dpkg -r detached {len(ours)} program(s); purge removed the store")


def check_preflight_initramfs(sections, console, kernel):
    def report(name):
        text = sections.get(name, "")
        found = re.search(r"exit=(\d+)", text)
        return json.loads(next(l for l in text.splitlines() if l.startswith("{"))), int(found.group(1)) if found else None
    good, code = report("preflight-good")
    assert code == 0 and good["outcome"] == "bootable", (code, [f["message"] for f in good["findings"]])
    assert good["initramfs"]["generator"] == "initramfs-tools" and good["initramfs"]["modules"] > 100, good["initramfs"]
    needs = {n["module"] for n in good["root"]["needs"]}
    assert {"virtio_blk", "ext4"} <= needs, f"the root chain read from sysfs: {needs}"
    bad, code = report("preflight-bad")
    errors = [f["message"] for f in bad["findings"] if f["severity"] == "error"]
    assert code == 1 and bad["outcome"] == "likely_fails", (code, errors)
    assert any(m.startswith("virtio_blk") for m in errors), f"preflight must name virtio_blk: {errors}"
    assert bad["initramfs"]["modules"] < 50, f"{good['initramfs']['modules']} modules before, {bad['initramfs']['modules']} after"
    armed = status(sections)
    inhibitor = (armed.get("preflight") or {}).get("inhibitor") or {}
    assert inhibitor.get("active") is True and inhibitor.get("state") == "available", armed.get("preflight")
    refused = sections.get("inhibited", "")
    assert "exit=0" not in refused and "reboot-witness" in refused and "would likely fail" in refused, refused
    own = console.split("@@RW-OWN-BOOT-BEGIN@@")
    assert len(own) == 2, "the host did not boot the guest's own image"
    failed = own[1].split("@@RW-OWN-BOOT-END@@")[0]
    line = next((l for l in failed.splitlines() if "Gave up waiting for root" in l or "does not exist" in l), None)
    assert line, f"the broken image did not fail to mount root: {failed[-600:]}"
    last = json.loads(sections["last"])
    attempts = last.get("failed_attempts") or []
    assert attempts, f"last names no failed attempt: {last['summary']}"
    assert "FAILED BOOT ATTEMPT" in sections.get("last-list", ""), sections.get("last-list", "")[-600:]
    intent = [o for o in objects(sections) if o.get("type") == "preflight" and o["trigger"].startswith("intent:")]
    assert intent and intent[-1]["outcome"] == "likely_fails", f"no failing preflight stored with the reboot intent: {intent}"
    return "PASS", (f"{good['initramfs']['modules']} → {bad['initramfs']['modules']} modules, virtio_blk named; "
                    f"systemctl reboot refused; the image failed: {line.strip()[:60]}; last: "
                    + "; ".join(f"{a['source']}: {a['excerpt'][:70]}" for a in attempts))


def syslog_only(sections, console):
    """`last --json` of a RHEL-style host never armed (volatile journal, rsyslog's
    files): the ended boot comes from the text files alone, never high."""
    boots = boot_ids(console)  # set-up, the boot judged, the report
    assert len(boots) == 3 and len(set(boots)) == 3, f"expected three boots, saw {boots}"
    journal = [l for l in sections.get("journal-boots", "").splitlines() if re.match(r"\s*-?\d+ ", l)]
    assert len(journal) == 1, f"the volatile journal must hold the current boot only: {sections.get('journal-boots')}"
    v = json.loads(sections["last"])
    assert v["boot_id"] != boots[2], "last judged the current boot"
    assert v["confidence"] != "high", "a text log's claims are never high"
    notes = [e["excerpt"] for e in v["evidence"] if e["stance"] == "note"]
    assert any("never armed" in n for n in notes), notes
    assert any(e["source"] == "syslog" for e in v["evidence"]), v["evidence"]
    listed = [json.loads(l) for l in sections.get("last-list", "").splitlines() if l.startswith("{")]
    assert listed and listed[0]["current"] and listed[1]["bootstat"] == v["bootstat"], \
        f"--list: {[(l['boot_id'], l['bootstat']) for l in listed]}"
    return v


def check_syslog_sudo(sections, console, kernel):
    v = syslog_only(sections, console)
    assert (v["reason"], v["subreason"], v["detail"]) == ("reboot", "user", "alice"), f"last says {v['bootstat']}: {v['summary']}"
    i = v["initiator"] or {}
    assert (i.get("ssh_peer") or "").startswith("127.0.0.1:"), f"ssh client: {i}"
    assert i.get("argv") == "/usr/sbin/reboot" and (i.get("tty") or "").startswith("pts/"), i
    located = [e["excerpt"] for e in v["evidence"] if e["source"] == "syslog" and "(/var/log/auth.log:" in e["excerpt"]]
    assert located, f"no claim from /var/log/auth.log with its line: {v['evidence']}"
    return "PASS", f"last: {v['bootstat']} ({v['confidence']}), ssh from {i['ssh_peer']} on {i['tty']}, from rsyslog's files; " \
                   f"{located[0][-40:]}"


def check_syslog_oom_reset(sections, console, kernel):
    v = syslog_only(sections, console)
    assert (v["reason"], v["subreason"]) == ("hard_reset", "oom_then_reset"), f"last says {v['bootstat']}: {v['summary']}"
    support = [e["excerpt"] for e in v["evidence"] if e["stance"] == "supports"]
    assert any("the text log ends with no shutdown sequence" in e for e in support), support
    assert any("oom-kill:" in e or "out of memory" in e.lower() for e in support), support
    recovered = [e for e in support if "recovery complete" in e or "uncleanly shut down" in e or "orphan" in e]
    assert recovered, f"the next boot's recovery is not among the evidence: {support}"
    mark = re.search(r"@@RW-MARK@@ (\S+)", console).group(1)
    assert v["last_seen"][:16] == mark[:16], f"last seen {v['last_seen']}, last words written at {mark}"
    return "PASS", f"last: {v['bootstat']} ({v['confidence']}), last seen {v['last_seen']}; {len(recovered)} recovery line(s)"


def check_pod_reboot(sections, console, kernel):
    boots = boot_ids(console)
    assert len(boots) == 2 and boots[0] != boots[1], f"expected two boots, saw {boots}"
    previous = [r for r in records(sections) if r["boot_id"] == boots[0]]
    call = first(previous, "reboot -f from the pod", lambda r: r["probe"] == "sys_enter_reboot" and r["cmd"] == "RESTART")
    assert call["pod_uid"] == "6f0c2b1e-9d3a-4c55-8e71-2a9b4f6d0c13", call["pod_uid"]
    assert call["pod"] == {"namespace": "kube-system", "name": "node-rebooter-7d9f8", "container": "rebooter",
                           "uid": "6f0c2b1e-9d3a-4c55-8e71-2a9b4f6d0c13"}, call["pod"]
    last = verdict(sections, "reboot", "container", "pod=kube-system/node-rebooter-7d9f8")
    assert "pod kube-system/node-rebooter-7d9f8 container rebooter" in sections.get("dump-human", ""), "dump names the pod"
    return "PASS", f"{last}; {call['comm']}[{call['pid']}] in {call['container']['runtime']}:{call['container']['id'][:12]} of pod kube-system/node-rebooter-7d9f8"


def check_soft_reboot(sections, console, kernel):
    boots = boot_ids(console)
    assert len(boots) == 3 and boots[0] == boots[1] != boots[2], f"expected one boot id across the soft reboot, then a new one: {boots}"
    before, after = sections.get("before", "").split(), sections.get("after", "").split()
    assert before[:2] == ["u", "0"] and after[:2] == ["u", "1"], f"SoftRebootsCount before/after: {before[:2]} {after[:2]}"
    # The unit's '@' argv spares arm from the soft reboot's final kill: the same process witnesses both sessions.
    arm_before, arm_after = before[2], after[2]
    assert arm_before == arm_after and after[3] == "NRestarts=0", f"arm: {arm_before} then {arm_after}, {after[3]}"
    boot = boots[0]
    reexec = first(records(sections), "PID 1's re-exec for the soft reboot",
                   lambda r: r["boot_id"] == boot and r["probe"] == "sched_process_exec" and r["pid"] == 1
                   and r["cmd"] == "SOFT_REBOOT")
    assert "--switched-root" in (reexec["cmd_arg"] or ""), reexec["cmd_arg"]
    # alice asked too, after logind had passed the container's request on: recorded, never its requester.
    relay = first(records(sections), "logind's StartUnit soft-reboot.target",
                  lambda r: r["boot_id"] == boot and r["probe"] == "dbus" and r["comm"] == "systemd-logind" and r["cmd"] == "SOFT_REBOOT")
    assert relay["sender_owns_login1"] is True, relay
    alice = first(records(sections), "alice's later `systemctl soft-reboot`",
                  lambda r: r["boot_id"] == boot and r["user"] == "alice" and r["cmd"] == "SOFT_REBOOT")
    assert relay["time"] < alice["time"] < reexec["time"], (relay["time"], alice["time"], reexec["time"])
    cad_off = [r for r in records(sections) if r["boot_id"] == boot and r["cmd"] == "CAD_OFF" and r["initiator"]]
    assert not cad_off, f"PID 1's CAD_OFF at its start named an initiator: {cad_off[0]['initiator']}"
    for name in ("session", "session-prev"):  # the same part of the boot, asked in it and from the next boot
        part = json.loads(sections[name])
        assert (part["reason"], part["subreason"], part["confidence"]) == ("soft_reboot", "container", "high"), \
            f"{name}: {part['bootstat']} ({part['confidence']}): {part['summary']}"
        assert part["initiator"]["comm"] == "systemctl" and part["initiator"]["container"]["id"] == CONTAINER_ID, part["initiator"]
    lines = [json.loads(line) for line in sections["list"].splitlines() if line.startswith("{")]
    of_boot = [line for line in lines if line["boot_id"] == boot]
    assert [(line["index"], line["soft_reboots_count"]) for line in of_boot] == [(-1, 1), (-1, 0)], of_boot
    rest, part = of_boot
    assert rest["bootstat"].startswith("reboot,service,rw-scenario.service"), f"the boot's end: {rest['bootstat']}: {rest['summary']}"
    assert part["bootstat"].startswith("soft_reboot,container,"), f"its soft reboot: {part['bootstat']}"
    # Restarted after the soft reboot: the new arm adopts the pinned capture, and PID 1 tells it the count.
    pinning = status(sections, "status-rearmed")["capture"]["pinning"]
    assert pinning["lifecycle"] == "adopted", f"arm restarted after the soft reboot: {pinning}"
    summary = sections["dump-rearmed"].splitlines()[0]
    assert "(last armed after soft reboot 1)" in summary, f"SoftRebootsCount over PID 1's private socket: {summary}"
    finished = sections.get("finished", "")
    message_id = json.loads(finished.splitlines()[0]).get("MESSAGE_ID") if finished.startswith("{") else None
    return "PASS", (f"one boot id, arm pid {arm_before} throughout, then restarted: adopted, told SoftRebootsCount 1; "
                    f"alice's request after logind's relay not named; "
                    f"`last --list`: {part['bootstat']} then {rest['bootstat']}; "
                    f"PID 1's 'Soft-reboot finished' MESSAGE_ID {message_id}")


def check_logind_impostor(sections, console, kernel):
    """Root in logind's cgroup with no login uid asked systemd for reboot.target
    after alice was refused: the bus said the name was not its own, so root's
    busctl is named, not alice; every record that attribution gives is kept."""
    boots = boot_ids(console)
    assert len(boots) == 2 and boots[0] != boots[1], f"expected two boots, saw {boots}"
    assert re.search(r"exit [1-9]", sections.get("alice", "")), f"alice's reboot was not refused: {sections.get('alice')}"
    assert "systemd-logind.service" in sections.get("impostor", ""), f"root did not get into logind's cgroup: {sections.get('impostor')}"
    previous = [r for r in records(sections) if r["boot_id"] == boots[0]]
    alice = first(previous, "alice's systemctl reboot", lambda r: r["comm"] == "systemctl" and r["user"] == "alice")
    impostor = first(previous, "root's StartUnit reboot.target", lambda r: r["probe"] == "dbus" and r["comm"] == "busctl")
    assert (impostor["uid"], impostor["loginuid"], impostor["cgroup"]) == (0, None, "/system.slice/systemd-logind.service"), impostor
    assert impostor["sender_owns_login1"] is False, f"the bus was not asked, or vouched for root: {impostor}"
    bus = [r for r in previous if r["probe"] == "dbus"]
    assert all(r["sender_owns_login1"] is False for r in bus), [(r["comm"], r["sender_owns_login1"]) for r in bus]
    v = json.loads(sections["last"])
    initiator = v["initiator"] or {}
    assert (initiator.get("comm"), initiator.get("pid")) == ("busctl", impostor["pid"]), \
        f"last names {initiator.get('comm')}[{initiator.get('pid')}], not root's busctl: {v['summary']}"
    pid1 = first(previous, "PID 1's systemd-shutdown record", lambda r: r["pid"] == 1 and r["probe"] == "sched_process_exec")
    assert (pid1.get("initiator") or {}).get("comm") == "busctl", f"PID 1's shutdown linked to {pid1.get('initiator')}"
    return "PASS", (f"last: {v['bootstat']} ({v['confidence']}), initiator busctl[{impostor['pid']}] (root in logind's cgroup, "
                    f"no login uid, not the owner of org.freedesktop.login1), not alice's refused systemctl[{alice['pid']}]")
