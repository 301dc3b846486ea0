"""The chaos run, long: faults injected again and again into a running system, then counted.

    .venv/bin/python bench/chaos.py                          # the issue's counts
    .venv/bin/python bench/chaos.py --worker-kills 5 --leader-kills 2 --time-cap 300
    .venv/bin/python bench/chaos.py --save figures.json
    .venv/bin/python bench/chaos.py --baseline bench/chaos_baseline.json

It starts a private PostgreSQL cluster, a private Redis (append-only, fsync always, until the
restarts without persistence, which come last), a real SMTP server, `--nodes` worker nodes
through the supervisor (`reviewq worker`) and two schedulers, each in a fresh directory under
--root (default REVIEWQ_CHAOS_ROOT, else the temp dir; kept only if the run found a problem), on
free ports. A producer keeps sending waves of overlapping pools whose caps bind (more reviews
asked than slots) while the faults are injected one after another, `--fault-every` seconds
apart: worker SIGKILLs (while messages are in flight), scheduler leader SIGKILLs (on a fire
instant, with a standby), PostgreSQL postmaster SIGKILLs (crash recovery), Redis SIGKILLs with
and without persistence (the producer keeps going and retries what Redis refused).

Then it waits for the system to settle and counts from independent evidence
(tests/reliability/chaos/evidence.py): requests lost or failed, reviews assigned twice,
reviewers over capacity, e-mails missing, duplicated or later than 60 s after recovery, outbox
rows left, overdue batches not expired. It prints a table and exits 1 if any count is not 0.
The short runs of the CI suite (tests/reliability/test_chaos.py) use the same engine.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--worker-kills", type=int, default=20)
    parser.add_argument("--leader-kills", type=int, default=5)
    parser.add_argument("--postgres-crashes", type=int, default=1)
    parser.add_argument("--redis-durable-restarts", type=int, default=1)
    parser.add_argument("--redis-volatile-restarts", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=2, help="worker nodes (reviewq worker)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--fault-every", type=float, default=4.0, help="seconds between faults")
    parser.add_argument("--wave-every", type=float, default=2.0, help="seconds between waves")
    parser.add_argument("--time-cap", type=float, default=1500.0, help="seconds, in all")
    parser.add_argument("--recovery-cap", type=float, default=150.0)
    parser.add_argument(
        "--root", type=Path, help="where the run's directory goes (REVIEWQ_CHAOS_ROOT, else /tmp)"
    )
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="compare with figures saved by --save")
    return parser.parse_args(argv)


def figures(report: Any) -> dict[str, Any]:
    tally = report.tally.as_dict()
    tally.pop("details")
    return {
        "faults": dict(report.injected()),
        "counts": tally,
        "problems": report.problems(),
        "recovered_in_s": report.recovered_in_s,
        "seconds": round(report.seconds, 1),
        "waves": report.waves,
        "kills_with_messages_in_flight": report.kills_with_messages_in_flight,
        "producer_errors": report.producer_errors,
    }


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """One line per figure that differs from the baseline's."""
    lines = []
    for section in ("faults", "counts"):
        for name, value in current[section].items():
            before = baseline.get(section, {}).get(name)
            if before != value:
                lines.append(f"  {section}.{name}: {before} -> {value}")
    for name in ("recovered_in_s", "seconds"):
        if baseline.get(name) != current[name]:
            lines.append(f"  {name}: {baseline.get(name)} -> {current[name]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from tests.reliability.chaos.engine import Plan, run_plan

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    plan = Plan(
        worker_kills=args.worker_kills,
        leader_kills=args.leader_kills,
        postgres_crashes=args.postgres_crashes,
        redis_durable_restarts=args.redis_durable_restarts,
        redis_volatile_restarts=args.redis_volatile_restarts,
        nodes=args.nodes,
        threads=args.threads,
        fault_every=args.fault_every,
        wave_every=args.wave_every,
        time_cap=args.time_cap,
        recovery_cap=args.recovery_cap,
        root=args.root,
    )
    report = run_plan(plan)
    print(report.table())
    current = figures(report)
    if report.problems():
        print(f"FAILED: {report.problems()}")
    for name, examples in report.tally.details.items():
        if examples:
            print(f"  {name}: {examples}")
    if args.baseline:
        baseline = json.loads(args.baseline.read_text())
        changes = compare(current, baseline)
        print(f"against {args.baseline}:" if changes else f"same figures as {args.baseline}")
        print("\n".join(changes))
    if args.save:
        args.save.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return 1 if report.problems() or report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
