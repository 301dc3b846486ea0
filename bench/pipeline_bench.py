"""Issue #14's benchmark: the worker pipeline against dramatiq's own ceiling, on PostgreSQL.

    .venv/bin/python bench/pipeline_bench.py                       # set up once, then measure
    .venv/bin/python bench/pipeline_bench.py --quick               # smaller counts, a smoke run
    .venv/bin/python bench/pipeline_bench.py --save figures.json
    .venv/bin/python bench/pipeline_bench.py --baseline bench/pipeline_baseline.json
    .venv/bin/python bench/pipeline_bench.py --phases noop,one     # some phases only

In one run, each phase on fresh worker processes (default 2 x 8, `--processes/--threads`),
Redis db 6 (flushed between phases; nothing else) and the database `reviewq_bench_pipeline`
(bench/pipeline_data.py: 400 reviewers, 20,000 reviews; reset between phases):

1. noop: a no-op actor (bench/noop_actor.py) on dramatiq's plain RedisBroker, N messages
   pushed in one pipeline, messages/s from the first ack to the last; then the same on
   reviewq's broker, for information.
2. one: M raw `assign_reviews` messages of 1 review, load_balanced over a pool of 5 out of 400
   (pools overlap), maxPerReviewer binding, notifyReviewers on, on `start_dramatiq`'s worker:
   requests finished per second (the store polled every 0.2 s), then the mail outbox drain.
3. hundred: requests of 100 reviews (pool of 20): reviews assigned per second.
4. floor: the statements reviewq's own code sends for 1,000 requests like phase 2's and 100
   like phase 3's (each request and its e-mails' deliveries), recorded here, then replayed
   alone on 2, 4, 8 and 16 connections (bench/sql_floor.py): what PostgreSQL gives these
   requests with no queue and no Python, and the CPU it spends on each.
5. http: a real uvicorn (port 18601) with the workers running: `POST /v1/reviews/assign` of one
   review, sequential on an idle system (p50/p95), then 20 concurrent clients (requests/s,
   against the queue-only rate of phase 2).
6. scaling: phase 2's rate with 1, 2 and 4 worker processes.

Every phase checks that each request SUCCEEDED, nobody is over maxPerReviewer and there is one
notification per (request, reviewer given work), all sent; each replay of the floor, that it
left what its recording left; the run exits 1 if a check fails. It ends with what this machine
allows each queued target (`ceilings`: PostgreSQL's CPU for the requests' statements at the
floor's best, plus dramatiq's no-op cost for each of a request's messages, as if reviewq's
Python cost nothing; a target above it is out of reach here), then issue #14's targets, each
met or NOT met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

import noop_actor  # noqa: E402 (bench/, beside this file)
import pipeline_data as data  # noqa: E402
import sql_floor  # noqa: E402
from api_bench import percentiles, processes  # noqa: E402
from cpu_split import cpu_snapshot, cpu_split  # noqa: E402
from pipeline_checks import (  # noqa: E402
    capacity_failures,
    capacity_problems,
    notification_problems,
    request_problems,
    reviews_assigned,
)

PG_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_bench_pipeline"
REDIS_URL = "redis://127.0.0.1:6379/6"
PORT = 18601
POLL_S = 0.2
PHASES = ("noop", "one", "hundred", "floor", "http", "scaling")
Figures = dict[str, Any]


@dataclass(frozen=True)
class Counts:
    noop: int
    one: int
    hundred: int
    floor_one: int
    floor_hundred: int
    sequential: int
    clients: int
    concurrent: int
    scaling: int


DEFAULT = Counts(20_000, 3_000, 200, 1_000, 100, 200, 20, 400, 1_000)
QUICK = Counts(2_000, 300, 20, 200, 20, 40, 20, 100, 200)


@dataclass
class Run:
    env: dict[str, str]
    log: IO[bytes]
    client: redis.Redis
    processes: int
    threads: int
    counts: Counts
    problems: list[str]


# --- processes ---------------------------------------------------------------------------------


def flush_redis(client: redis.Redis) -> None:
    client.flushdb()  # db 6 only: the bench's own


def stop(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


@contextmanager
def reviewq_workers(run: Run, processes: int) -> Iterator[None]:
    """reviewq's worker (workers.supervisor.start_dramatiq), warmed up, data reset."""
    from workers.supervisor import start_dramatiq

    flush_redis(run.client)
    worker = start_dramatiq(processes, run.threads, env=run.env, stdout=run.log, stderr=run.log)
    try:
        warm = data.plan_requests(processes * run.threads, 1, 5, None, prefix="pb_warm_")
        data.push_requests(run.client, warm)
        wait_until(lambda: finished_count() >= len(warm.ids) and unsent_mail() == 0, 120)
        data.reset()
        yield
    finally:
        stop(worker)
        flush_redis(run.client)


def wait_until(done: Callable[[], bool], timeout: float, poll: float = POLL_S) -> float:
    """Poll `done` every `poll` s; the perf_counter when it first held."""
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s")
        time.sleep(poll)
    return time.perf_counter()


# --- 1. the no-op ceiling ----------------------------------------------------------------------


def noop_rate(run: Run, broker: str, namespace: str) -> Figures:
    flush_redis(run.client)
    command = [sys.executable, "-m", "dramatiq", f"noop_actor:{broker}", "--path", str(BENCH)]
    command += ["--processes", str(run.processes), "--threads", str(run.threads)]
    env = {**os.environ, **run.env}
    worker = subprocess.Popen(command, env=env, stdout=run.log, stderr=run.log)
    keys = (noop_actor.COUNT_KEY, noop_actor.FIRST_KEY, noop_actor.LAST_KEY)
    try:
        warm = 2 * run.processes * run.threads
        push = noop_actor.QUEUE, noop_actor.ACTOR
        data.push_raw(run.client, namespace, *push, ([warm] for _ in range(warm)))
        wait_until(lambda: int(run.client.get(keys[0]) or 0) >= warm, 60, poll=0.05)
        run.client.delete(*keys)
        n = run.counts.noop
        cpu = cpu_snapshot()
        started = time.perf_counter()
        data.push_raw(run.client, namespace, *push, ([n] for _ in range(n)))
        pushed = time.perf_counter() - started
        wait_until(lambda: bool(run.client.exists(keys[2])), 300, poll=0.05)
        split = cpu_split(cpu, cpu_snapshot())
        first, last = (float(run.client.get(key) or 0) for key in keys[1:])
    finally:
        stop(worker)
        flush_redis(run.client)
    seconds = last - first
    # what a message costs the workers and Redis (the producer's push and the kernel apart)
    spent = split.get("workers", 0.0) + split.get("redis-server", 0.0)
    return {"messages": n, "push_s": round(pushed, 2), "seconds": round(seconds, 2),
            "messages_per_s": round((n - 1) / seconds, 1),
            "cpu_ms_per_message": round(spent * 1000 / n, 3)}  # fmt: skip


# --- 2., 3., 5. queued requests ----------------------------------------------------------------


def finished_count() -> int:
    from store import AssignmentRequest
    from store.enums import FINISHED_REQUEST_STATUSES

    finished = AssignmentRequest.status.in_(list(FINISHED_REQUEST_STATUSES))
    return int(AssignmentRequest.select().where(finished).count())


def unsent_mail() -> int:
    from store import Notification
    from store.enums import NotificationStatus

    return int(Notification.select().where(Notification.status != NotificationStatus.SENT).count())


def queued_phase(run: Run, plan: data.RequestPlan) -> Figures:
    """Push the plan's messages, wait for every request and then every e-mail, check."""
    cpu = cpu_snapshot()
    started = time.perf_counter()
    data.push_requests(run.client, plan)
    timeout = max(120.0, len(plan.ids) / 2)
    done = wait_until(lambda: finished_count() >= len(plan.ids), timeout)
    cpu_done = cpu_snapshot()
    drained = wait_until(lambda: unsent_mail() == 0, timeout)
    figures = check_requests(run, dict.fromkeys(plan.ids), plan.cap)
    seconds = done - started
    figures.update(
        requests=len(plan.ids),
        seconds=round(seconds, 2),
        requests_per_s=round(len(plan.ids) / seconds, 1),
        reviews_per_s=round(figures["reviews_assigned"] / seconds, 1),
        mail_drain_after_s=round(drained - done, 2),
        mail_per_s=round(figures["notifications"] / (drained - started), 1),
        # CPU seconds per process kind until the last request finished, per request (ms)
        cpu_ms_per_request={
            kind: round(s * 1000 / len(plan.ids), 2) for kind, s in cpu_split(cpu, cpu_done).items()
        },
    )
    data.reset()
    return figures


def check_requests(run: Run, expected: dict[str, None] | None, cap: int | None) -> Figures:
    """Read the phase's outcome from the store; record its problems in `run.problems`.
    `expected`: the request uuids pushed (None: whatever rows there are, for HTTP)."""
    from peewee import fn

    from store import AssignmentRequest, Notification, Review, Reviewer
    from store.enums import ReviewState

    rows = {str(r.uuid): r for r in AssignmentRequest.select()}
    statuses = {rid: str(r.status.value) for rid, r in rows.items()}
    results = [r.result for r in rows.values()]
    label_of = dict(Reviewer.select(Reviewer.email, Reviewer.external_id).tuples())
    notified: dict[str, int] = {}
    for email, n in Notification.select(Notification.recipient, fn.COUNT(1)).group_by(
        Notification.recipient
    ).tuples():  # fmt: skip
        notified[label_of.get(email, email)] = int(n)
    held = dict(
        Review.select(Reviewer.external_id, fn.COUNT(Review.id))
        .join(Reviewer)
        .where(Review.state == ReviewState.IN_REVIEW)
        .group_by(Reviewer.external_id)
        .tuples()
    )
    problems = request_problems(expected if expected is not None else rows, statuses)
    before = {data.reviewer_label(n): data.held_before(n) for n in range(data.REVIEWERS)}
    problems += capacity_problems(held, before, cap)
    problems += notification_problems(results, notified)
    unsent = unsent_mail()
    if unsent:
        problems.append(f"{unsent} notifications not sent")
    run.problems += problems
    return {
        "requests_recorded": len(rows),
        "reviews_assigned": reviews_assigned(results),
        "capacity_failures": capacity_failures(results),
        "notifications": sum(notified.values()),
        "max_per_reviewer": cap,
        "problems": problems,
    }


def one_review_plan(count: int, seed: int = 14) -> data.RequestPlan:
    return data.plan_requests(count, 1, 5, data.binding_cap(count), seed=seed)


#: The replay's connections: PostgreSQL on 2 cores does the most with a few (bench/sql_floor.py).
FLOOR_CONNECTIONS = (2, 4, 8, 16)


def floor_phase(run: Run, plan: data.RequestPlan) -> Figures:
    """The plan's requests run once here by reviewq's own code, their statements recorded, then
    replayed alone on 2 to 16 connections (bench/sql_floor.py), each replay checked to leave
    what the recording left: the same reviews assigned, the same e-mails sent."""
    from store.db import GENERIC_PLANS

    data.reset()
    recorded = sql_floor.record(plan)
    first = check_requests(run, dict.fromkeys(plan.ids), plan.cap)
    replays: Figures = {}
    for connections in FLOOR_CONNECTIONS:
        data.reset()
        replay = sql_floor.replay(recorded, run.env["DATABASE_URL"], GENERIC_PLANS, connections)
        again = check_requests(run, dict.fromkeys(plan.ids), plan.cap)
        for name in ("reviews_assigned", "notifications"):
            if first[name] != again[name]:
                run.problems.append(f"floor: a replay gave {again[name]} {name}, not {first[name]}")
        replay["reviews_per_s"] = round(again["reviews_assigned"] / replay["seconds"], 1)
        replays[str(connections)] = replay
    data.reset()
    return {
        "requests": len(plan.ids),
        "reviews_assigned": first["reviews_assigned"],
        "notifications": first["notifications"],
        "statements_per_request": round(recorded.statements / len(plan.ids), 1),
        "replays": replays,
    }


# --- 4. HTTP -----------------------------------------------------------------------------------


def staff_token() -> str:
    from store import User
    from tasks.users import create_user, rotate_token

    staff = User.get_or_none(User.username == "pb_staff")
    return rotate_token(staff) if staff else create_user("pb_staff", is_staff=True)[1]


def post_all(
    base: str, token: str, plan: data.RequestPlan, clients: int
) -> tuple[float, list[float]]:
    headers = {"Authorization": f"Token {token}"}
    local: dict[int, httpx.Client] = {}

    def one(body: dict[str, Any]) -> float:
        client = local.get(threading.get_ident())
        if client is None:  # one client per thread, built once (not per request)
            client = local[threading.get_ident()] = httpx.Client(base_url=base, timeout=60)
        started = time.perf_counter()
        response = client.post("/v1/reviews/assign", json=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"POST /v1/reviews/assign: {response.status_code} {response.text}")
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        samples = list(pool.map(one, plan.bodies))
    seconds = time.perf_counter() - started
    for client in local.values():
        client.close()
    return seconds, samples


def http_phase(run: Run) -> Figures:
    token = staff_token()
    base = f"http://127.0.0.1:{PORT}"
    counts = run.counts
    figures: Figures = {}
    with reviewq_workers(run, run.processes), processes(run.env, PORT, with_worker=False):
        post_all(base, token, data.plan_requests(10, 1, 5, None, prefix="pb_warm_"), 1)
        wait_until(lambda: unsent_mail() == 0, 60)
        data.reset()
        for name, count, clients in (
            ("sequential", counts.sequential, 1),
            ("concurrent", counts.concurrent, counts.clients),
        ):
            # phase 2's cap, so that a request does as much work as a queued one
            cap = data.binding_cap(counts.one)
            plan = data.plan_requests(count, 1, 5, cap, seed=15)
            cpu = cpu_snapshot()
            seconds, samples = post_all(base, token, plan, clients)
            split = cpu_split(cpu, cpu_snapshot())
            wait_until(lambda: unsent_mail() == 0, 120)
            figures[name] = {
                "clients": clients,
                "requests_per_s": round(count / seconds, 1),
                **percentiles(samples),
                **check_requests(run, None, plan.cap),
                "cpu_ms_per_request": {k: round(v * 1000 / count, 2) for k, v in split.items()},
            }
            if figures[name]["requests_recorded"] != count:
                run.problems.append(f"http {name}: {count} POSTs but a different number of rows")
            data.reset()
    return figures


# --- the run -----------------------------------------------------------------------------------


def measure(run: Run, phases: set[str]) -> Figures:
    figures: Figures = {}
    if "noop" in phases:
        figures["noop_plain"] = noop_rate(run, "plain_broker", noop_actor.PLAIN_NAMESPACE)
        figures["noop_reviewq"] = noop_rate(run, "reviewq_broker", data.NAMESPACE)
    if {"one", "hundred"} & phases:
        with reviewq_workers(run, run.processes):
            if "one" in phases:
                figures["one"] = queued_phase(run, one_review_plan(run.counts.one))
            if "hundred" in phases:
                plan = data.plan_requests(run.counts.hundred, 100, 20, None)
                figures["hundred"] = queued_phase(run, plan)
    if "floor" in phases:
        hundred = data.plan_requests(run.counts.floor_hundred, 100, 20, None)
        figures["floor"] = {
            "one": floor_phase(run, one_review_plan(run.counts.floor_one)),
            "hundred": floor_phase(run, hundred),
        }
    if "http" in phases:
        figures["http"] = http_phase(run)
    if "scaling" in phases:
        figures["scaling"] = {}
        for processes_ in (1, 2, 4):
            with reviewq_workers(run, processes_):
                phase = queued_phase(run, one_review_plan(run.counts.scaling))
                figures["scaling"][str(processes_)] = phase
    return figures


def targets(f: Figures) -> list[tuple[str, str, str, bool | None]]:
    """(measure, figure, target, met) for each of issue #14's targets; met None: not run."""

    def get(*path: str) -> Any:
        value: Any = f
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    noop, one = get("noop_plain", "messages_per_s"), get("one", "requests_per_s")
    hundred = get("hundred", "reviews_per_s")
    p50, p95 = get("http", "sequential", "p50_ms"), get("http", "sequential", "p95_ms")
    clients = get("http", "concurrent", "requests_per_s")
    s1, s2 = get("scaling", "1", "requests_per_s"), get("scaling", "2", "requests_per_s")

    def ratio(a: Any, b: Any) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    r_one, r_http, r_scale = ratio(one, noop), ratio(clients, one), ratio(s2, s1)
    rows = [
        ("1-review rate / no-op rate", r_one, f"{one} / {noop} req/s", ">= 0.25", 0.25),
        ("100-review reviews/s", hundred, f"{hundred} reviews/s", ">= 10,000", 10_000),
        ("HTTP idle p50 ms", p50, f"{p50} ms", "<= 20", -20),
        ("HTTP idle p95 ms", p95, f"{p95} ms", "<= 50", -50),
        ("HTTP 20 clients / queue-only", r_http, f"{clients} / {one} req/s", ">= 0.5", 0.5),
        ("2 procs / 1 proc", r_scale, f"{s2} / {s1} req/s", ">= 1.7", 1.7),
    ]
    out: list[tuple[str, str, str, bool | None]] = []
    for name, value, shown, target, bound in rows:
        if value is None:
            out.append((name, "not run", target, None))
            continue
        met = value <= -bound if bound < 0 else value >= bound
        label = shown if name.endswith(("ms", "reviews/s")) else f"{value} ({shown})"
        out.append((name, label, target, met))
    return out


def ceilings(f: Figures) -> dict[str, Figures]:
    """What this machine allows each queued target, from the floor and no-op phases: the
    requests/s if PostgreSQL had every core for the requests' own statements (its processes'
    CPU in the cheapest replay) and the workers cost only dramatiq's no-op cost for each of a
    request's messages (the request and its e-mail's delivery), reviewq's Python nothing. The
    kernel's share of both is left out, so the ceiling is a generous one: a target above it
    cannot be met here with these statements."""
    from workers.delivery import BATCH_SIZE

    noop = f.get("noop_plain", {})
    floor = f.get("floor", {})
    cores = os.cpu_count() or 1
    out: dict[str, Figures] = {}
    for name, needed in (("one", 0.25 * noop.get("messages_per_s", 0)), ("hundred", 10_000.0)):
        phase = floor.get(name)
        if not phase or "cpu_ms_per_message" not in noop:
            continue
        replays = phase["replays"].values()
        database_ms = min(r["cpu_ms_per_request"].get("postgres", 0.0) for r in replays)
        mail = phase["notifications"] / phase["requests"]
        messages = 1 + -int(-mail // BATCH_SIZE)
        ms = database_ms + messages * noop["cpu_ms_per_message"]
        unit = "requests_per_s" if name == "one" else "reviews_per_s"
        per_request = 1 if name == "one" else phase["reviews_assigned"] / phase["requests"]
        out[name] = {
            "needed_per_s": round(needed, 1),
            "sql_alone_per_s": max(r[unit] for r in replays),
            "database_cpu_ms_per_request": round(database_ms, 2),
            "messages_per_request": messages,
            "ceiling_per_s": round(cores * 1000 / ms * per_request, 1),
        }
    return out


def print_report(figures: Figures) -> None:
    print(json.dumps(figures, indent=2))
    for name in ("one", "hundred"):
        if name in figures:
            p = figures[name]
            print(f"{name}: {p['requests_per_s']} req/s, {p['reviews_per_s']} reviews/s; "
                  f"{p['capacity_failures']} capacity failures; mail drained "
                  f"{p['mail_drain_after_s']} s after the last request")  # fmt: skip
    if "scaling" in figures:
        print("\n| processes | requests/s | ratio to 1 |\n|---|---|---|")
        one = figures["scaling"]["1"]["requests_per_s"]
        for processes_, phase in figures["scaling"].items():
            rate = phase["requests_per_s"]
            print(f"| {processes_} | {rate} | {rate / one:.2f} |")
    reviewq_noop = figures.get("noop_reviewq", {}).get("messages_per_s")
    if reviewq_noop and "one" in figures:
        rate = figures["one"]["requests_per_s"]
        print(f"\nfor information: 1-review rate / no-op on reviewq's own broker (its middleware): "
              f"{rate / reviewq_noop:.3f} ({rate} / {reviewq_noop} req/s)")  # fmt: skip
    if figures.get("ceilings"):
        print("\n| what this machine allows | needed | the SQL alone, replayed | ceiling | |")
        print("|---|---|---|---|---|")
        units = {"one": "req/s", "hundred": "reviews/s"}
        for name, c in figures["ceilings"].items():
            verdict = "reachable" if c["ceiling_per_s"] >= c["needed_per_s"] else "out of reach"
            print(f"| {name}: PostgreSQL {c['database_cpu_ms_per_request']} ms CPU, "
                  f"{c['messages_per_request']} messages per request | "
                  f"{c['needed_per_s']} {units[name]} | {c['sql_alone_per_s']} | "
                  f"{c['ceiling_per_s']} | {verdict} |")  # fmt: skip
    print("\n| issue #14 target | figure | target | |\n|---|---|---|---|")
    for name, shown, target, met in targets(figures):
        verdict = "n/a" if met is None else "met" if met else "NOT met"
        print(f"| {name} | {shown} | {target} | {verdict} |")


def compare(figures: Figures, baseline: Figures) -> None:
    paths = [
        ("noop_plain", "messages_per_s"),
        ("one", "requests_per_s"),
        ("hundred", "reviews_per_s"),
        ("http", "sequential", "p50_ms"),
        ("http", "sequential", "p95_ms"),
        ("http", "concurrent", "requests_per_s"),
        *(("scaling", p, "requests_per_s") for p in ("1", "2", "4")),
    ]
    for path in paths:
        old: Any = baseline
        new: Any = figures
        for key in path:
            old, new = (old or {}).get(key), (new or {}).get(key)
        if isinstance(old, int | float) and isinstance(new, int | float) and old:
            print(f"{'.'.join(path)}: {old} -> {new} ({(new - old) / old * 100:+.0f}%)")


def load() -> str:
    """`uptime`: the machine is shared, and its load is part of the figures."""
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def run_bench(args: argparse.Namespace) -> Figures:
    from store.db import connect_database, create_postgres_database

    create_postgres_database(args.database_url)
    connect_database(args.database_url)
    data.build(args.rebuild)
    data.reset()
    shm = Path("/dev/shm")  # the .eml drop on tmpfs: the cheapest real transport
    data_dir = tempfile.mkdtemp(prefix="reviewq-pipeline-", dir=shm if shm.is_dir() else None)
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PUBLIC_URL": f"http://127.0.0.1:{PORT}",
        "REVIEWQ_DATA_DIR": data_dir,
        "REVIEWQ_WORKER_METRICS_PORT": "0",
    }
    os.environ.update(env)  # the floor phase runs requests here, as a worker would
    counts = QUICK if args.quick else DEFAULT
    phases = set(args.phases.split(","))
    uptime = load()
    print(f"before: {uptime}")
    with open(Path(data_dir) / "workers.log", "wb") as log:
        client = redis.Redis.from_url(args.redis_url)
        run = Run(env, log, client, args.processes, args.threads, counts, [])
        figures: Figures = {
            "uptime_before": uptime,
            "shape": f"{args.processes} processes x {args.threads} threads",
            "counts": counts.__dict__,
        }
        figures.update(measure(run, phases))
    shutil.rmtree(Path(data_dir) / "outbox", ignore_errors=True)  # the .eml files, on tmpfs
    figures["uptime_after"] = load()
    figures["problems"] = run.problems
    figures["ceilings"] = ceilings(figures)
    figures["targets"] = {name: met for name, _, _, met in targets(figures)}
    print(f"worker logs: {data_dir}/workers.log")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("REVIEWQ_BENCH_PIPELINE_PG_URL", PG_URL)
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="smaller counts: a smoke run")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"of {','.join(PHASES)}")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()
    figures = run_bench(args)
    print_report(figures)
    print(f"after: {figures['uptime_after']}")
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2) + "\n")
    if args.baseline:
        compare(figures, json.loads(args.baseline.read_text()))
    if figures["problems"]:
        print("CHECKS FAILED:\n" + "\n".join(f"- {p}" for p in figures["problems"]))
        sys.exit(1)
    print("checks: every request succeeded, nobody over capacity, one e-mail per reviewer")


if __name__ == "__main__":
    main()
