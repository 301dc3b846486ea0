"""Benchmark of the scheduler's jobs on PostgreSQL.

    .venv/bin/python bench/scheduler_bench.py                       # the issue's sizes
    .venv/bin/python bench/scheduler_bench.py --batches 10000       # a quick run
    .venv/bin/python bench/scheduler_bench.py --save figures.json
    .venv/bin/python bench/scheduler_bench.py --baseline figures.json

Figures (targets from the scheduler issue):
- expire: `expire_batches` on --batches overdue sent batches with --items-per-batch pending
  items each (one call in ten enables automatic reassignment, so the enqueueing of their items
  is included), among --future-batches not due; target <= 5 s for 100,000.
- expire_again: the same job once more (nothing to do; shows the indexed no-op).
- reminders: `send_reminders` finding --reminder-batches batches inside their window among
  --future-batches outside it, and enqueueing them; target <= 10 s for 10,000.
- reminders_write (no target): the actor work those messages cause, run in this process: one
  outbox row rendered and written per batch, the batches flagged.

It uses a dedicated database (--database-url, created if missing and emptied at each run) and a
dedicated Redis database (--redis-url), whose scheduler queue it empties afterwards; no worker
should listen there. Set-up uses INSERT ... SELECT generate_series, not row-by-row inserts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGETS = {"expire": 5.0, "reminders": 10.0}
Figures = dict[str, Any]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--items-per-batch", type=int, default=2)
    parser.add_argument("--reminder-batches", type=int, default=10_000)
    parser.add_argument("--future-batches", type=int, default=50_000)
    parser.add_argument("--skip-write", action="store_true", help="skip reminders_write")
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="compare with figures saved by --save")
    return parser.parse_args(argv)


def seed_people(calls: int, reviewers: int, proposals: int) -> tuple[list[int], list[int]]:
    """`calls` calls (the first enables auto reassignment) with reviewers and proposals;
    returns the call ids and the pool entry ids."""
    from store import Call, Proposal, Reviewer, ReviewerPoolEntry
    from store.enums import InvitationStatus

    call_ids = [
        Call.create(name=f"Bench call {n}", auto_reassign_on_decline=(n == 0)).id
        for n in range(calls)
    ]
    Reviewer.insert_many(
        [{"name": f"R{n}", "email": f"r{n}@example.org"} for n in range(reviewers)]
    ).execute()
    reviewer_ids = [r.id for r in Reviewer.select(Reviewer.id)]
    rows = [
        {"call": c, "reviewer": r, "invitation_status": InvitationStatus.ACCEPTED}
        for c in call_ids
        for r in reviewer_ids
    ]
    ReviewerPoolEntry.insert_many(rows).execute()
    Proposal.insert_many(
        [{"call": c, "name": f"P{n}"} for c in call_ids for n in range(proposals)]
    ).execute()
    return call_ids, [e.id for e in ReviewerPoolEntry.select(ReviewerPoolEntry.id)]


BATCH_SQL = """
INSERT INTO assignment_batch (uuid, created, modified, call_id, reviewer_pool_entry_id, status,
    source, sent_at, expires_at, manager_notes, reminder_sent, manager_notified)
SELECT gen_random_uuid(), %(now)s, %(now)s, e.call_id, e.id, 'sent', 'algorithm',
    %(expires)s - interval '7 days', %(expires)s, '', false, false
FROM generate_series(1, %(count)s) AS g
JOIN reviewer_pool_entry AS e ON e.id = %(first_entry)s + (g %% %(entries)s)
"""
ITEM_SQL = """
INSERT INTO assignment_item (uuid, created, modified, batch_id, proposal_id, status, has_coi,
    decline_reason, reassign_count, override_reason)
SELECT gen_random_uuid(), %(now)s, %(now)s, b.id, p.id, 'pending', false, '', 0, ''
FROM assignment_batch AS b
CROSS JOIN generate_series(0, %(per_batch)s - 1) AS s
JOIN LATERAL (
    SELECT id FROM proposal WHERE call_id = b.call_id ORDER BY id
    OFFSET ((b.id * 7 + s * 13) %% %(proposals)s) LIMIT 1
) AS p ON true
WHERE b.expires_at = %(expires)s
"""


def seed_batches(
    now: datetime, expires: datetime, count: int, per_batch: int, entries: list[int]
) -> None:
    """`count` sent batches expiring at `expires`, spread over the pool entries, with items."""
    from store import database

    params = {
        "now": now,
        "expires": expires,
        "count": count,
        "first_entry": min(entries),
        "entries": len(entries),
        "per_batch": per_batch,
        "proposals": PROPOSALS_PER_CALL,
    }
    with database.atomic():
        database.execute_sql(BATCH_SQL, params)
        if per_batch:
            database.execute_sql(ITEM_SQL, params)


PROPOSALS_PER_CALL = 200


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def wal_position() -> str:
    from store import database

    return str(database.execute_sql("SELECT pg_current_wal_lsn()").fetchone()[0])


def wal_mb_since(start: str) -> float:
    from store import database

    query = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)"
    return round(float(database.execute_sql(query, (start,)).fetchone()[0]) / 2**20, 1)


def run(args: argparse.Namespace) -> dict[str, Figures]:
    from scheduler.jobs import JobOptions, expire_batches, send_reminders
    from store import Notification, database
    from store.clock import utcnow
    from store.db import connect_database, create_postgres_database
    from store.migrations import drop_everything, migrate

    create_postgres_database(args.database_url)
    connect_database(args.database_url)
    drop_everything()
    migrate()
    now = utcnow().replace(microsecond=0)
    _calls, entries = seed_people(calls=10, reviewers=500, proposals=PROPOSALS_PER_CALL)
    print(
        f"seeding {args.batches:,} overdue batches x {args.items_per_batch} items ...", flush=True
    )
    started = time.perf_counter()
    seed_batches(now, now - timedelta(hours=1), args.batches, args.items_per_batch, entries)
    seed_batches(now, now + timedelta(days=10), args.future_batches, 1, entries)
    database.execute_sql("VACUUM ANALYZE")  # as autovacuum leaves a table that lived a while
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)

    options = JobOptions()
    figures: dict[str, Figures] = {}
    wal = wal_position()
    seconds, report = timed(expire_batches, now, options)
    figures["expire"] = {"seconds": seconds, **report.counts, "wal_mb": wal_mb_since(wal)}
    seconds, report = timed(expire_batches, now, options)
    figures["expire_again"] = {"seconds": seconds, **report.counts}

    clear_scheduled_queue(args.redis_url)  # the reassignment messages: no worker here
    seed_batches(now, now + timedelta(days=1), args.reminder_batches, 1, entries)
    database.execute_sql("ANALYZE")
    seconds, report = timed(send_reminders, now, options)
    figures["reminders"] = {"seconds": seconds, **report.counts}
    if not args.skip_write:
        seconds, written = timed(run_queued_reminders, args.redis_url)
        figures["reminders_write"] = {
            "seconds": seconds,
            "messages": written,
            "reminders": Notification.select().count(),
        }
    clear_scheduled_queue(args.redis_url)
    return figures


def run_queued_reminders(redis_url: str) -> int:
    """Run, in this process, the reminder messages the job enqueued (what workers would do)."""
    import redis

    from tasks.actors import send_batch_reminders
    from workers.redis_keys import QUEUE_NAMESPACE, SCHEDULED_QUEUE

    client = redis.Redis.from_url(redis_url)
    messages = [json.loads(d) for d in client.hvals(f"{QUEUE_NAMESPACE}:{SCHEDULED_QUEUE}.msgs")]
    mine = [m for m in messages if m["actor_name"] == send_batch_reminders.actor_name]
    for message in mine:
        send_batch_reminders.fn(*message["args"])
    return len(mine)


def clear_scheduled_queue(redis_url: str) -> None:
    import redis

    from workers.redis_keys import QUEUE_NAMESPACE

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{QUEUE_NAMESPACE}:*"):
        client.delete(key)


def compare(figures: Figures, base: Figures | None) -> str:
    if not base:
        return ""
    ratio = figures["seconds"] / base["seconds"] if base["seconds"] else float("inf")
    return f"  x{ratio:.2f} vs baseline ({base['seconds']:.2f} s)"


def print_figures(figures: dict[str, Figures], baseline: dict[str, Figures]) -> bool:
    ok = True
    for name, f in figures.items():
        counts = ", ".join(f"{k}={v:,}" for k, v in f.items() if k != "seconds")
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            passed = f["seconds"] <= target
            ok = ok and passed
            verdict = f"  target <= {target:.0f} s: {'PASS' if passed else 'FAIL'}"
        print(
            f"{name:<16}{f['seconds']:>8.2f} s  {counts}{verdict}{compare(f, baseline.get(name))}"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["REDIS_URL"] = args.redis_url  # the broker binds to it on import
    os.environ.pop("REVIEWQ_BROKER", None)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else {}
    figures = run(args)
    ok = print_figures(figures, baseline)
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        print(f"saved {len(figures)} figures to {args.save}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
