"""generate-assignments end to end on PostgreSQL: load the call, solve, persist the drafts.

matching.md's target: 10,000 proposals x 5,000 reviewers x 3 (about 1M imported affinities,
30,000 items) in <= 30 s. Set-up bulk-inserts the call in a dedicated database (created if
missing, emptied at each run); the affinities come from one INSERT ... SELECT.

    .venv/bin/python bench/generate_bench.py [--proposals N] [--reviewers N]
        [--per-proposal N] [--algorithm optimal|greedy|fair] [--save F] [--baseline F]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from store import Call, Proposal, Reviewer, ReviewerPoolEntry, User
from store.clock import utcnow
from store.db import connect_database, create_postgres_database, database
from store.enums import InvitationStatus
from store.migrations import drop_everything, migrate
from tasks.batches.generate import generate_assignments

TARGET_SECONDS = 30.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/reviewq_bench_gen"
    )
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=5_000)
    parser.add_argument("--per-proposal", type=int, default=100, help="candidate reviewers each")
    parser.add_argument("--algorithm", default="optimal")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--baseline", type=Path)
    return parser.parse_args()


def seed(args: argparse.Namespace) -> tuple[User, Call]:
    staff = User.create(username="bench", is_staff=True)
    call = Call.create(name="bench", reviewers_per_proposal=3)
    now = utcnow()
    rows: list[dict[str, Any]]
    with database.atomic():
        for start in range(0, args.reviewers, 1000):
            count = min(1000, args.reviewers - start)
            rows = [
                {"name": f"r{start + i}", "email": f"r{start + i}@example.org"}
                for i in range(count)
            ]
            Reviewer.insert_many(rows).execute()
        for start in range(0, args.proposals, 1000):
            count = min(1000, args.proposals - start)
            rows = [
                {"call": call.id, "name": f"p{start + i}", "created": now} for i in range(count)
            ]
            Proposal.insert_many(rows).execute()
        reviewer_ids = [r for (r,) in Reviewer.select(Reviewer.id).tuples()]
        for start in range(0, len(reviewer_ids), 1000):
            rows = [
                {
                    "call": call.id,
                    "reviewer": r,
                    "max_assignments": 8,
                    "invitation_status": InvitationStatus.ACCEPTED,
                }
                for r in reviewer_ids[start : start + 1000]
            ]
            ReviewerPoolEntry.insert_many(rows).execute()
        # each proposal gets --per-proposal distinct reviewers, spread over the pool
        database.execute_sql(
            """
            INSERT INTO affinity
                (uuid, created, modified, call_id, reviewer_id, proposal_id, score, source)
            SELECT gen_random_uuid(), now(), now(), %s,
                   r.first + ((p.id * 37 + k * %s) %% %s), p.id, random(), 'imported'
            FROM proposal p, generate_series(0, %s - 1) AS k,
                 (SELECT min(id) AS first FROM reviewer) AS r
            WHERE p.call_id = %s
            """,
            (
                call.id,
                args.reviewers // args.per_proposal,
                args.reviewers,
                args.per_proposal,
                call.id,
            ),
        )
    database.execute_sql("ANALYZE")
    return staff, call


def main() -> int:
    args = parse_args()
    create_postgres_database(args.database_url)
    connect_database(args.database_url)
    drop_everything()
    migrate()
    started = time.perf_counter()
    staff, call = seed(args)
    seeded = time.perf_counter() - started
    print(f"seeded {args.proposals:,} proposals x {args.reviewers:,} reviewers in {seeded:.1f} s")
    started = time.perf_counter()
    answer = generate_assignments(staff, str(call.uuid), algorithm=args.algorithm).to_json()
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "generate_seconds": round(seconds, 2),
        **answer,
        "skipped_proposals": len(answer["skipped_proposals"]),
    }
    verdict = "PASS" if seconds <= TARGET_SECONDS else "FAIL"
    print(
        f"generate ({args.algorithm}) {seconds:.2f} s: {answer['items_created']:,} items in "
        f"{answer['batches_created']:,} drafts, {figures['skipped_proposals']} proposals short  "
        f"target <= {TARGET_SECONDS:.0f} s: {verdict}"
    )
    if args.baseline and args.baseline.exists():
        before = json.loads(args.baseline.read_text())
        print(f"baseline: {before['generate_seconds']} s -> now {figures['generate_seconds']} s")
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
