"""Every Redis key prefix and queue name reviewq uses, in one place (as arq/constants.py).

dramatiq derives a queue's delay and dead-letter queues from its name; `dq_name` and `xq_name`
(dramatiq's own helpers) give them, and `queue_key` the Redis key of any of the three.
"""

from __future__ import annotations

from dramatiq.common import dq_name, xq_name

#: dramatiq's namespace for queues, ack sets, heartbeats and dead letters.
QUEUE_NAMESPACE = "reviewq"
#: Queued requests (seeds/004 bulk assign, generate-assignments).
ASSIGNMENT_QUEUE = "assignments"
#: Outbox delivery.
MAIL_QUEUE = "mail"
#: The actors the scheduler enqueues.
SCHEDULED_QUEUE = "scheduled"
#: Every queue a reviewq worker consumes.
QUEUES = (ASSIGNMENT_QUEUE, MAIL_QUEUE, SCHEDULED_QUEUE)

#: The scheduler's leader lease.
SCHEDULER_LEADER_KEY = "reviewq:scheduler:leader"
#: One key per (job, fire time): two leaders still cause one effect.
SCHEDULER_FIRE_PREFIX = "reviewq:scheduler:fired:"
#: Failed authentications per client address, one counter per window (tasks/throttle.py).
AUTH_FAILURES_PREFIX = "reviewq:auth:failures:"

#: One list per finished request, `<prefix><request uuid>`: the worker pushes a token after the
#: commit that finished it, and waiters BLPOP it (tasks/requests/signal.py); with a TTL.
REQUEST_DONE_PREFIX = "reviewq:request-done:"

#: Liveness of each process: `<prefix>worker:<host>:<pid>`, `<prefix>scheduler:<owner>` (a JSON
#: value with a TTL: a process that stops renewing it disappears).
HEARTBEAT_PREFIX = "reviewq:heartbeat:"

__all__ = [
    "ASSIGNMENT_QUEUE",
    "AUTH_FAILURES_PREFIX",
    "HEARTBEAT_PREFIX",
    "MAIL_QUEUE",
    "QUEUES",
    "QUEUE_NAMESPACE",
    "REQUEST_DONE_PREFIX",
    "SCHEDULED_QUEUE",
    "SCHEDULER_FIRE_PREFIX",
    "SCHEDULER_LEADER_KEY",
    "dq_name",
    "queue_key",
    "wake_key",
    "xq_name",
]


def queue_key(queue: str) -> str:
    """The Redis list that holds `queue`'s ready messages (also `.DQ`/`.XQ` names, and `.msgs`
    with a suffix)."""
    return f"{QUEUE_NAMESPACE}:{queue}"


def wake_key(queue: str) -> str:
    """The list an enqueue on `queue` (a `.DQ` name too) pushes a token on, and that the idle
    consumers of `queue` BLPOP: a hint only (workers/wire.py)."""
    return f"{queue_key(queue)}.wake"
