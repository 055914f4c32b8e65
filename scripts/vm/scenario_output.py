"""Reading what a guest scenario printed: the sections vm-test parsed (dump,
status, last, pstore) and the console's boot markers."""
import json
import re

CONTAINER_ID = "c0ffee00" * 8


def objects(sections):
    return [json.loads(line) for line in sections.get("dump", "").splitlines() if line.startswith("{")]


def records(sections):
    """Caller records (other objects, such as watchdog findings, carry a "type")."""
    return [o for o in objects(sections) if "type" not in o]


def status(sections, name="status"):
    assert name in sections, f"guest printed no {name} section"
    return json.loads(sections[name])


def probe_states(report):
    return {p["name"]: p for p in report["probes"]}


def kernel_version(release):
    """(major, minor) of "5.10.0-46-amd64"."""
    major, minor = re.match(r"(\d+)\.(\d+)", release).groups()
    return int(major), int(minor)


def boot_ids(console):
    return re.findall(r"@@RW-BOOT@@ .* boot_id=(\S+)", console)


def previous_boot(sections, console):
    """Records of the boot that ended; asserts the scenario spanned two boots."""
    boots = boot_ids(console)
    assert len(boots) == 2 and boots[0] != boots[1], f"expected two distinct boots, saw {boots}"
    return [r for r in records(sections) if r["boot_id"] == boots[0]]


def verdict(sections, reason, subreason, detail=None):
    """`last --json` of the boot that ended: asserts reason and subreason."""
    assert "last" in sections, "guest printed no last section"
    v = json.loads(sections["last"])
    assert (v["reason"], v["subreason"]) == (reason, subreason), f"last says {v['bootstat']}: {v['summary']}"
    if detail is not None:
        assert v["detail"] == detail, f"last detail {v['detail']!r}, expected {detail!r}"
    assert v["evidence"], "a verdict without evidence"
    return f"last: {v['bootstat']} ({v['confidence']})"


def first(items, what, predicate):
    for item in items:
        if predicate(item):
            return item
    raise AssertionError(f"no {what} among {len(items)} record(s): "
                         + "; ".join(f"{r.get('probe', r.get('type'))}/{r.get('cmd')}/{r.get('comm')}" for r in items))


def pstore_text(sections):
    return sections.get("pstore-records", "")


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]
