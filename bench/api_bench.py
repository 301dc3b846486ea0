"""Benchmark of the HTTP API on PostgreSQL through a real uvicorn server on 127.0.0.1.

    .venv/bin/python bench/api_bench.py                         # set up once, then measure
    .venv/bin/python bench/api_bench.py --save figures.json
    .venv/bin/python bench/api_bench.py --baseline figures.json  # compare with a saved run
    .venv/bin/python bench/api_bench.py --rebuild               # drop and rebuild the data

1. List latency: p50/p95/max of `GET /api/assignment-batches/?page_size=100` (and of
   `/api/assignment-items/`) as staff, over --requests requests on pages spread over the
   first 50, after a warm-up, with 100,000 batches (200,000 items) in the dedicated database
   `reviewq_bench_api` (created if missing; bulk `INSERT ... SELECT generate_series`; reused
   by later runs). Target: p95 <= 50 ms for the batch list.
2. Throughput of `POST /v1/reviews/assign` (5 reviews each, round robin over 10 reviewers,
   notifications on) from --clients concurrent clients, each request waiting for its result,
   served by a real dramatiq worker (workers.supervisor.start_dramatiq) on Redis db 5, which
   is flushed afterwards. The reviews are reset to unassigned before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_bench_api"
REDIS_URL = "redis://127.0.0.1:6379/5"
BATCHES = 100_000
CALLS, ENTRIES_PER_CALL, PROPOSALS_PER_CALL = 10, 20, 50
REVIEWS, REVIEWS_PER_REQUEST, POOL = 1_200, 5, 10
TARGET_P95_MS = 50.0
Figures = dict[str, Any]


# --- the data set ------------------------------------------------------------------------------


def build(rebuild: bool) -> None:
    """The data set, unless a complete one is already there."""
    from store import AssignmentBatch, Review, database
    from store.migrations import drop_everything, migrate

    if rebuild:
        drop_everything()
    migrate()
    if AssignmentBatch.select().count() == BATCHES and Review.select().count() == REVIEWS:
        return
    drop_everything()
    migrate()
    started = time.perf_counter()
    _small_tables()
    with database.atomic():
        # no parameters, but psycopg2 reads `%` as one: double them
        database.execute_sql(BATCHES_SQL.replace(":batches", str(BATCHES)).replace("%", "%%"))
        database.execute_sql(ITEMS_SQL.replace("%", "%%"))
    database.execute_sql("VACUUM ANALYZE")  # the steady state autovacuum keeps
    seconds = time.perf_counter() - started
    print(f"set-up: {BATCHES:,} batches, {2 * BATCHES:,} items in {seconds:.1f} s")


def _small_tables() -> None:
    """Calls, reviewers, pool entries, proposals and unassigned reviews, through the ORM."""
    from store import Call, Proposal, Reviewer, ReviewerPoolEntry, database
    from store.enums import InvitationStatus, ProposalState

    with database.atomic():
        for c in range(CALLS):
            call = Call.create(name=f"Bench call {c}", external_id=f"call_bench_{c}")
            for r in range(ENTRIES_PER_CALL):
                n = c * ENTRIES_PER_CALL + r
                reviewer = Reviewer.create(
                    name=f"Reviewer {n}", email=f"r{n}@example.org", external_id=f"user_bench_{n}"
                )
                ReviewerPoolEntry.create(
                    call=call,
                    reviewer=reviewer,
                    invitation_status=InvitationStatus.ACCEPTED,
                    max_assignments=10_000,
                )
            proposals = [
                {
                    "call": call.id,
                    "name": f"P{c}.{p}",
                    "slug": f"p-{c}-{p}",
                    "state": ProposalState.SUBMITTED,
                }
                for p in range(PROPOSALS_PER_CALL)
            ]
            Proposal.insert_many(proposals).execute()
    _reviews()


def _reviews() -> None:
    """REVIEWS unassigned reviews, each of its own proposal in a call without batches (a
    reviewer never gets two reviews of one proposal)."""
    from store import Call, Proposal, Review, database
    from store.enums import ProposalState

    with database.atomic():
        call = Call.create(name="Bench assign call", external_id="call_bench_assign")
        rows = [
            {"call": call.id, "name": f"A{n}", "slug": f"a-{n}", "state": ProposalState.SUBMITTED}
            for n in range(REVIEWS)
        ]
        Proposal.insert_many(rows).execute()
        ids = Proposal.select(Proposal.id).where(Proposal.call == call.id).order_by(Proposal.id)
        reviews = [{"proposal": p.id, "external_id": f"rev_bench_{n}"} for n, p in enumerate(ids)]
        Review.insert_many(reviews).execute()


BATCHES_SQL = """
WITH entries AS (
    SELECT id, call_id, row_number() OVER (ORDER BY id) - 1 AS k FROM reviewer_pool_entry
)
INSERT INTO assignment_batch (uuid, created, modified, call_id, reviewer_pool_entry_id, status,
    source, sent_at, expires_at, responded_at, manager_notes, reminder_sent, manager_notified)
SELECT gen_random_uuid(), now() - g * interval '1 minute', now(), e.call_id, e.id,
    (ARRAY['draft', 'sent', 'responded', 'expired', 'cancelled'])[g % 5 + 1],
    CASE WHEN g % 3 = 0 THEN 'manual' ELSE 'algorithm' END,
    CASE WHEN g % 5 IN (1, 2, 3) THEN now() - g * interval '1 minute' END,
    CASE WHEN g % 5 IN (1, 2, 3) THEN now() + (7 - g % 9) * interval '1 day' END,
    CASE WHEN g % 5 = 2 THEN now() - g * interval '30 seconds' END,
    '', false, false
FROM generate_series(0, :batches - 1) AS g
JOIN entries e ON e.k = g % (SELECT count(*) FROM reviewer_pool_entry)
"""

ITEMS_SQL = """
WITH props AS (
    SELECT id, call_id, row_number() OVER (PARTITION BY call_id ORDER BY id) - 1 AS k
    FROM proposal
)
INSERT INTO assignment_item (uuid, created, modified, batch_id, proposal_id, status,
    affinity_score, has_coi, decline_reason, reassign_count, override_reason)
SELECT gen_random_uuid(), b.created, now(), b.id, p.id,
    CASE WHEN j = 1 AND b.id % 7 = 0 THEN 'coi_blocked' ELSE 'pending' END,
    ((b.id * 37 + j * 11) % 100) / 100.0, j = 1 AND b.id % 7 = 0, '', 0, ''
FROM assignment_batch b
CROSS JOIN generate_series(0, 1) AS j
JOIN props p ON p.call_id = b.call_id AND p.k = (b.id + j) % 50
"""


# --- the processes -----------------------------------------------------------------------------


def serve(port: int, database_url: str) -> None:
    """The web process for the benchmark: uvicorn on 127.0.0.1, a pooled connection per thread."""
    import uvicorn

    from api.app import create_app
    from store.db import connect_database

    connect_database(database_url, max_connections=64)
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def processes(env: dict[str, str], port: int, with_worker: bool) -> Any:
    """The web server (and a dramatiq worker) as children, stopped at the end."""
    from workers.supervisor import start_dramatiq

    web = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--database-url", env["DATABASE_URL"]],
        env={**os.environ, **env},
    )
    worker = start_dramatiq(2, 8, env=env) if with_worker else None
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/openapi.json")
        yield
    finally:
        for child in (web, worker):
            if child is not None:
                child.terminate()
                child.wait(timeout=30)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer at {url}")


# --- the measures ------------------------------------------------------------------------------


def percentiles(samples_ms: list[float]) -> Figures:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1], 2),
    }


def list_latency(base: str, headers: dict[str, str], path: str, requests: int) -> Figures:
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for page in range(1, 11):  # warm-up: connections, plans, caches
            client.get(path, params={"page_size": 100, "page": page}).raise_for_status()
        samples = []
        for n in range(requests):
            started = time.perf_counter()
            response = client.get(path, params={"page_size": 100, "page": n % 50 + 1})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()) == 100, response.text
            total = int(response.headers["X-Result-Count"])
    return {**percentiles(samples), "total": total}


def assign_throughput(base: str, headers: dict[str, str], clients: int, requests: int) -> Figures:
    reviewers = [f"user_bench_{n}" for n in range(POOL)]
    bodies = [
        {
            "reviewIds": [
                f"rev_bench_{i * REVIEWS_PER_REQUEST + k}" for k in range(REVIEWS_PER_REQUEST)
            ],
            "assignmentStrategy": {"type": "round_robin", "pool": reviewers},
        }
        for i in range(requests)
    ]

    def one(body: dict[str, Any]) -> tuple[float, int, int]:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            started = time.perf_counter()
            response = client.post("/v1/reviews/assign", json=body)
            elapsed = (time.perf_counter() - started) * 1000
        assigned = response.json().get("assigned", 0) if response.status_code == 200 else 0
        return elapsed, response.status_code, int(assigned)

    one(bodies[0])  # warm-up: the worker's first message
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, bodies[1:]))
    seconds = time.perf_counter() - started
    statuses = sorted({status for _, status, _ in results})
    return {
        "clients": clients,
        "requests": len(results),
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(results) / seconds, 1),
        "reviews_assigned_per_s": round(sum(a for _, _, a in results) / seconds, 1),
        "statuses": statuses,
        **{
            f"latency_{k}": v
            for k, v in percentiles([ms for ms, _, _ in results]).items()
            if k != "n"
        },
    }


def reset_reviews() -> None:
    from store import AssignmentRequest, Notification, Review
    from store.enums import ReviewState

    Review.update(reviewer=None, state=ReviewState.UNASSIGNED, assigned_at=None).execute()
    AssignmentRequest.delete().execute()
    Notification.delete().execute()


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


# --- the command -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Figures:
    from config import get_settings
    from store.db import connect_database, create_postgres_database
    from store.migrations import migrate
    from tasks.users import create_user, rotate_token

    create_postgres_database(args.database_url)
    connect_database(args.database_url)
    build(args.rebuild)
    migrate()
    from store import User

    staff = User.get_or_none(User.username == "bench_staff")
    token = rotate_token(staff) if staff else create_user("bench_staff", is_staff=True)[1]
    reset_reviews()
    flush_redis()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="reviewq-bench-")
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_URL": base,
        "REVIEWQ_DATA_DIR": data_dir,
    }
    get_settings.cache_clear()
    headers = {"Authorization": f"Token {token}"}
    figures: Figures = {"load_average_1m_before": round(os.getloadavg()[0], 2)}
    try:
        with processes(env, port, with_worker=not args.no_assign):
            figures["batches_list"] = list_latency(
                base, headers, "/api/assignment-batches/", args.requests
            )
            figures["items_list"] = list_latency(
                base, headers, "/api/assignment-items/", args.requests
            )
            if not args.no_assign:
                figures["assign"] = assign_throughput(
                    base, headers, args.clients, args.assign_requests
                )
    finally:
        flush_redis()
    figures["target_p95_ms"] = TARGET_P95_MS
    figures["target_met"] = figures["batches_list"]["p95_ms"] <= TARGET_P95_MS
    return figures


def compare(figures: Figures, baseline: Figures) -> None:
    for section in ("batches_list", "items_list"):
        if section in baseline and section in figures:
            old, new = baseline[section]["p95_ms"], figures[section]["p95_ms"]
            print(f"{section}: p95 {old} -> {new} ms ({(new - old) / old * 100:+.0f}%)")
    if "assign" in baseline and "assign" in figures:
        old, new = baseline["assign"]["requests_per_s"], figures["assign"]["requests_per_s"]
        print(f"assign: {old} -> {new} requests/s ({(new - old) / old * 100:+.0f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("REVIEWQ_BENCH_PG_URL", PG_URL))
    parser.add_argument("--requests", type=int, default=300, help="list requests per endpoint")
    parser.add_argument("--clients", type=int, default=10, help="concurrent assign clients")
    parser.add_argument("--assign-requests", type=int, default=201)
    parser.add_argument("--no-assign", action="store_true", help="measure the lists only")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.database_url)
        return
    figures = run(args)
    print(json.dumps(figures, indent=2))
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2) + "\n")
    if args.baseline:
        compare(figures, json.loads(args.baseline.read_text()))


if __name__ == "__main__":
    main()
