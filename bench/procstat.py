"""CPU accounting from /proc: which processes burned the CPU during a phase.

No psutil: /proc/<pid>/stat gives utime+stime (clock ticks) and the process group;
/proc/stat gives the whole machine's busy time. A phase is measured as the
difference of two snapshots.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


@dataclass
class Snapshot:
    wall: float
    procs: dict[int, tuple[str, int, int, int]]  # pid -> (comm, ppid, pgrp, ticks)
    machine_busy: int
    machine_total: int


def _machine() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def snapshot() -> Snapshot:
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        # rest[0]=state, [1]=ppid, [2]=pgrp, [11]=utime, [12]=stime
        procs[int(entry)] = (comm, int(rest[1]), int(rest[2]), int(rest[11]) + int(rest[12]))
    busy, total = _machine()
    return Snapshot(time.monotonic(), procs, busy, total)


def cpu_by_group(before: Snapshot, after: Snapshot, groups: dict[str, set[int]],
                 by_pid: dict[str, set[int]] | None = None) -> dict:
    """CPU % (of one core) per named group of process groups (pgrp) or pids, plus the machine.

    ``groups`` maps a label to process-group ids (a gunicorn master and its workers share
    one); ``by_pid`` maps a label to single pids. Processes that ended during the phase
    are counted up to their last snapshot only.
    """
    wall = after.wall - before.wall
    usage: dict[str, float] = {}
    top: dict[str, tuple[int, float]] = {}
    others: dict[int, float] = {}
    for pid, (comm, _ppid, pgrp, ticks) in after.procs.items():
        prev = before.procs.get(pid)
        delta = ticks - (prev[3] if prev and prev[0] == comm else 0)
        if delta <= 0:
            continue
        label = None
        for name, pids in (by_pid or {}).items():
            if pid in pids:
                label = name
        if label is None:
            for name, pgrps in groups.items():
                if pgrp in pgrps:
                    label = name
        label = label or "other"
        secs = delta / TICK
        if label == "other":
            others[pid] = secs
        usage[label] = usage.get(label, 0.0) + secs
        if secs > top.get(label, (0, 0.0))[1]:
            top[label] = (pid, secs)
    machine = (after.machine_busy - before.machine_busy) / max(1, after.machine_total - before.machine_total)
    return {"wall_s": wall, "machine_busy_pct": 100.0 * machine, "cores": CORES,
            "groups": {k: 100.0 * v / wall for k, v in sorted(usage.items(), key=lambda kv: -kv[1])},
            "hottest_process_pct": {k: 100.0 * v[1] / wall for k, v in top.items()},
            "other_top": [(pid, _describe(pid, after.procs[pid][0]), 100.0 * secs / wall)
                          for pid, secs in sorted(others.items(), key=lambda kv: -kv[1])[:3]
                          if 100.0 * secs / wall >= 2.0]}


def add_exited(cpu: dict, label: str, cpu_s: float) -> dict:
    """Count processes that reported their own CPU time (they exited before the snapshot)."""
    groups = dict(cpu["groups"])
    groups[label] = groups.get(label, 0.0) + 100.0 * cpu_s / cpu["wall_s"]
    cpu["groups"] = dict(sorted(groups.items(), key=lambda kv: -kv[1]))
    return cpu


def _describe(pid: int, comm: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        return (args or comm)[:70]
    except OSError:
        return comm
