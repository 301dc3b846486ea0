"""Benchmark of `compute_call_affinities` end to end: read texts, score, upsert rows.

    .venv/bin/python bench/affinity_store_bench.py                    # 2k x 1k, every pair > 0
    .venv/bin/python bench/affinity_store_bench.py --top 100          # each proposal's best 100
    .venv/bin/python bench/affinity_store_bench.py --save figures.json
    .venv/bin/python bench/affinity_store_bench.py --baseline figures.json

The database (PostgreSQL `reviewq_bench_aff` by default, created if missing) is emptied and a
seeded synthetic call written to it (`matching.synthetic.synthetic_texts`). "first" is the run
that inserts every row; "second" runs again on the same texts, which must write nothing.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from matching.synthetic import synthetic_texts
from store import Affinity, Call, Proposal, Reviewer, ReviewerPoolEntry, connect_database
from store.db import create_postgres_database
from store.migrations import drop_everything, migrate
from tasks.imports.affinities import AffinityReport, compute_call_affinities

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_bench_aff"
ROWS_PER_INSERT = 1000
Figures = dict[str, Any]


def insert_rows(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert; returns the new ids in row order (looked up by the uuids given)."""
    for row in rows:
        row["uuid"] = uuid.uuid4()
    for start in range(0, len(rows), ROWS_PER_INSERT):
        model.insert_many(rows[start : start + ROWS_PER_INSERT]).execute()
    ids = dict(model.select(model.uuid, model.id).tuples())
    return [ids[row["uuid"]] for row in rows]


def build_call(n_proposals: int, n_reviewers: int, seed: int) -> Call:
    """A call with synthetic proposals and a pool of synthetic reviewers, written in bulk."""
    proposals, reviewers = synthetic_texts(n_proposals, n_reviewers, seed=seed)
    call = Call.create(name=f"affinity bench {n_proposals} x {n_reviewers}")
    insert_rows(
        Proposal,
        [
            {"call": call.id, "name": p.name, "summary": p.summary, "keywords": list(p.keywords)}
            for p in proposals
        ],
    )
    reviewer_ids = insert_rows(
        Reviewer,
        [
            {
                "name": f"Reviewer {i}",
                "email": f"reviewer{i}@example.org",
                "expertise": [{"keyword": k, "proficiency": lvl} for k, lvl in r.expertise],
                "biography": r.biography,
            }
            for i, r in enumerate(reviewers)
        ],
    )
    insert_rows(ReviewerPoolEntry, [{"call": call.id, "reviewer": r} for r in reviewer_ids])
    return call


def timed_run(call: Call, top: int | None) -> Figures:
    report: AffinityReport = compute_call_affinities(str(call.uuid), top_per_proposal=top)
    figures = report.as_dict()
    figures["rows"] = Affinity.select().where(Affinity.call == call.id).count()
    return figures


def compare(f: Figures, base: Figures | None) -> str:
    if not base or not base.get("seconds"):
        return ""
    return f"seconds {(f['seconds'] - base['seconds']) / base['seconds'] * 100:+.1f}%"


def print_run(name: str, f: Figures, baseline: dict[str, Figures]) -> None:
    print(
        f"{name:<7}{f['seconds']:>9.2f} s  {f['rows']:>10,} rows  "
        f"inserted {f['inserted']:,}, updated {f['updated']:,}, unchanged {f['unchanged']:,}, "
        f"deleted {f['deleted']:,}  {compare(f, baseline.get(name))}",
        flush=True,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--proposals", type=int, default=2_000)
    parser.add_argument("--reviewers", type=int, default=1_000)
    parser.add_argument("--top", type=int, default=None, help="top_per_proposal (default: all)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="compare with figures saved by --save")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else {}
    if urlparse(args.database_url).scheme.startswith("postgres"):
        create_postgres_database(args.database_url)
    connect_database(args.database_url)
    drop_everything()
    migrate()
    started = time.perf_counter()
    call = build_call(args.proposals, args.reviewers, args.seed)
    print(
        f"# {args.proposals:,} proposals x {args.reviewers:,} reviewers, top {args.top or 'all'};"
        f" call written in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    figures = {"first": timed_run(call, args.top), "second": timed_run(call, args.top)}
    for name, f in figures.items():
        print_run(name, f, baseline)
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        print(f"saved {len(figures)} figures to {args.save}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
