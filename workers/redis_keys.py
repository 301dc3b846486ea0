"""Every Redis key prefix reviewq uses, in one place."""

from __future__ import annotations

#: dramatiq's namespace for queues, ack sets, heartbeats and dead letters.
QUEUE_NAMESPACE = "reviewq"
#: The scheduler's leader lease.
SCHEDULER_LEADER_KEY = "reviewq:scheduler:leader"
#: One key per (job, fire time): two leaders still cause one effect.
SCHEDULER_FIRE_PREFIX = "reviewq:scheduler:fired:"
