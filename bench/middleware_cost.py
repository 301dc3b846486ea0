"""What each of reviewq's worker middleware costs per message (issue #14, "Pipeline throughput").

    .venv/bin/python bench/middleware_cost.py --redis-url redis://127.0.0.1:6379/8
    .venv/bin/python bench/middleware_cost.py --variants plain,full --messages 20000

Each variant runs a dramatiq Worker in this process (8 threads, as one process of the default
worker) over N raw no-op messages on a real Redis, and reports the CPU it took per message:
this process's, the Redis server's (INFO cpu) and the log reader's (a child process that reads
the log pipe and writes to /dev/null, as dramatiq's main process reads its workers' pipes), and
the wall-clock rate. CPU per message is the figure to compare on a loaded machine; the rate
moves with the load.

The variants add reviewq's pieces one at a time to dramatiq's plain RedisBroker with its default
middleware: the identifying consumer (workers/wire.py), the DatabaseConnection middleware, the
ObservedMessages middleware (one log line per message, rendered by reviewq's logging as a worker
process logs: JSON, through a pipe; and Prometheus metrics in multiprocess mode) and the
WorkerHeartbeat middleware. `full` is reviewq's broker as workers.broker.build_broker makes it.
It needs PostgreSQL only for the variants with DatabaseConnection (--database-url).
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/8"
PG_URL = "postgresql://postgres@127.0.0.1:5432/reviewq_test_h4"
QUEUE = "noop"
ACTOR = "noop"
VARIANTS = ("plain", "wire", "db", "observe", "heartbeat", "full", "observe_only")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_logs(conn: multiprocessing.connection.Connection) -> None:
    """dramatiq's main process's watch_logs, writing to /dev/null."""
    with open(os.devnull, "w", encoding="utf-8") as sink:
        while True:
            try:
                data = conn.recv_bytes()
            except EOFError:
                return
            sink.write(data.decode("utf-8", errors="replace"))
            sink.flush()


def _redis_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_variant(name: str, args: argparse.Namespace) -> dict[str, Any]:  # noqa: PLR0915
    import dramatiq
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.compat import StreamablePipe
    from dramatiq.middleware import default_middleware

    from config.logs import configure_logging
    from workers import broker as reviewq_broker
    from workers.heartbeat import WorkerHeartbeat
    from workers.middleware.database_connection import DatabaseConnection
    from workers.middleware.observe import ObservedMessages
    from workers.redis_keys import QUEUE_NAMESPACE
    from workers.wire import IdentifyingRedisBroker

    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()
    read_end, write_end = multiprocessing.Pipe(duplex=False)
    reader = multiprocessing.Process(target=_read_logs, args=(read_end,), daemon=True)
    reader.start()
    assert reader.pid is not None
    reader_pid = reader.pid
    read_end.close()
    pipe = StreamablePipe(write_end)  # type: ignore[no-untyped-call]
    sys.stderr = pipe  # as dramatiq's worker process does
    configure_logging("json", process="worker")

    plain_mw: Callable[[], list[dramatiq.Middleware]] = lambda: [m() for m in default_middleware]  # noqa: E731
    extra: list[dramatiq.Middleware] = []
    if name in ("db", "observe", "heartbeat"):
        extra.append(DatabaseConnection())
    if name in ("observe", "heartbeat", "observe_only"):
        extra.append(ObservedMessages())
    if name == "heartbeat":
        extra.append(WorkerHeartbeat())
    if name == "plain":
        broker: dramatiq.Broker = RedisBroker(url=args.redis_url, middleware=plain_mw())  # type: ignore[no-untyped-call]
    elif name == "full":
        broker = reviewq_broker.build_broker(args.redis_url)
    else:
        broker = IdentifyingRedisBroker(  # type: ignore[no-untyped-call]
            url=args.redis_url,
            namespace=QUEUE_NAMESPACE,
            middleware=plain_mw() + extra,
            heartbeat_timeout=reviewq_broker.HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=reviewq_broker.MAINTENANCE_CHANCE,
        )
    namespace = broker.namespace  # type: ignore[attr-defined]
    dramatiq.set_broker(broker)
    done = threading.Event()
    count = [0]
    lock = threading.Lock()
    total = args.messages

    def noop() -> None:
        with lock:
            count[0] += 1
            if count[0] == total:
                done.set()

    dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=0)(noop)

    def push(n: int) -> None:
        p = client.pipeline(transaction=False)
        for i in range(n):
            mid = str(uuid.uuid4())
            msg: dramatiq.Message[Any] = dramatiq.Message(
                queue_name=QUEUE, actor_name=ACTOR, args=(), kwargs={},
                options={"redis_message_id": mid}, message_id=mid,
            )  # fmt: skip
            p.hset(f"{namespace}:{QUEUE}.msgs", mid, msg.encode())
            p.rpush(f"{namespace}:{QUEUE}", mid)
            if i % 2000 == 1999:
                p.execute()
        p.execute()

    worker = dramatiq.Worker(broker, worker_threads=args.threads)
    worker.start()
    try:
        warm = 2 * args.threads
        total = warm
        push(warm)
        done.wait(60)
        total, count[0] = args.messages, 0
        done.clear()
        push(args.messages)  # before the clock: pushing is not the worker's cost
        cpu0, redis0, reader0 = time.process_time(), _redis_cpu(client), _cpu_of(reader_pid)
        wall0 = time.perf_counter()
        # the messages are all queued: the worker drains them as fast as it can
        if not done.wait(600):
            raise SystemExit(f"{name}: only {count[0]} of {args.messages} messages ran")
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        redis_cpu = _redis_cpu(client) - redis0
        time.sleep(0.3)  # the reader catches up with the last lines
        reader_cpu = _cpu_of(reader_pid) - reader0
    finally:
        worker.stop()
        broker.close()
        pipe.close()  # type: ignore[no-untyped-call]
        reader.join(5)
        sys.stderr = sys.__stderr__
        client.flushdb()
    n = args.messages
    return {
        "variant": name,
        "rate": n / wall,
        "worker_us": cpu / n * 1e6,
        "redis_us": redis_cpu / n * 1e6,
        "reader_us": reader_cpu / n * 1e6,
        "total_us": (cpu + redis_cpu + reader_cpu) / n * 1e6,
    }


def _child(name: str, args: argparse.Namespace, out: Any) -> None:
    out.send(run_variant(name, args))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ.setdefault("REVIEWQ_SECRET_KEY", "middleware-cost-bench-not-a-secret")
    head = ("variant", "msg/s", "worker µs", "redis µs", "logs µs", "total µs")
    print(f"{head[0]:<13} {head[1]:>8} {head[2]:>10} {head[3]:>9} {head[4]:>8} {head[5]:>9}")
    for _ in range(args.repeat):
        for name in args.variants.split(","):
            with tempfile.TemporaryDirectory(prefix="reviewq-mw-cost-") as metrics_dir:
                # a fresh process per variant: prometheus-client picks its value class (in
                # multiprocess mode: mmap files) when first imported
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
                recv, send = multiprocessing.Pipe(duplex=False)
                child = multiprocessing.get_context("spawn").Process(
                    target=_child, args=(name, args, send)
                )
                child.start()
                r = recv.recv()
                child.join()
            print(
                f"{r['variant']:<13} {r['rate']:>8.0f} {r['worker_us']:>10.1f} "
                f"{r['redis_us']:>9.1f} {r['reader_us']:>8.1f} {r['total_us']:>9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
