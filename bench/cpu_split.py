"""Where a phase's CPU went: seconds of user + system time per kind of process, from /proc.

    before = cpu_snapshot()
    ...                                   # the phase
    split = cpu_split(before, cpu_snapshot())   # {"workers": 5.2, "postgres": 3.1, ...}

Every process on the machine counts, by its command name; Python processes as `workers`
(dramatiq's), `web` (uvicorn) or `python`, the kernel's workers as `kworker`, and the
benchmark's own as `bench`. A process that started within the phase counts in full; one that
ended within it is lost (the phases keep their workers alive throughout). Linux only;
elsewhere the split is empty.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

Snapshot = dict[int, tuple[str, float]]  # pid -> (kind, cpu seconds)


def _kind(pid: int, comm: str) -> str:
    if pid == os.getpid():
        return "bench"
    if comm.startswith("kworker"):
        # the kernel's workers rename themselves after the queue they run (`kworker/1:0-events`):
        # one kind, so that a rename between snapshots is not taken for a new process
        return "kworker"
    if not comm.startswith("python"):
        return comm
    try:
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return "python"
    if b"dramatiq" in command:
        return "workers"
    if b"--serve" in command or b"uvicorn" in command or b"-m api" in command:
        return "web"
    return "python"


def cpu_snapshot() -> Snapshot:
    """Every live process's (kind, cpu seconds)."""
    out: Snapshot = {}
    if not PROC.is_dir():
        return out
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we read
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        pid = int(entry.name)
        out[pid] = (_kind(pid, comm), (utime + stime) / TICKS)
    return out


def cpu_split(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per kind between two snapshots, largest first (above 0.05 s)."""
    totals: dict[str, float] = {}
    for pid, (kind, seconds) in after.items():
        earlier = before.get(pid)
        spent = seconds - earlier[1] if earlier is not None and earlier[0] == kind else seconds
        totals[kind] = totals.get(kind, 0.0) + spent
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return {kind: round(seconds, 2) for kind, seconds in ranked if seconds >= 0.05}
