"""The data set of bench/pipeline_bench.py, its reset between phases, and the raw messages.

Built once with bulk SQL into its own PostgreSQL database and reused by later runs:
REVIEWERS reviewers (`pb_user_<n>`, e-mail `pb<n>@example.org`), reviewer n already holding
n % 4 reviews `in_review` (of their own call, never reset: the caps bind unevenly), and
REVIEWS unassigned reviews (`pb_rev_<n>`) plus WARM_REVIEWS for warming workers up
(`pb_warm_<n>`), each of its own proposal (a reviewer never holds two reviews of one).

Requests are pushed as raw dramatiq messages for `assign_reviews` on the assignments queue,
`{"request": BODY, "request_id": UUID}`, in one Redis pipeline (what dramatiq's enqueue
writes: the payload in `<queue>.msgs`, its id on the queue's list).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis

REVIEWERS = 400
REVIEWS = 20_000
WARM_REVIEWS = 64
HELD_PER_REVIEWER = 4  # reviewer n holds n % 4 reviews before any request
CALL_ID = "pb_call"
HELD_CALL_ID = "pb_held_call"
ASSIGN_QUEUE, ASSIGN_ACTOR, NAMESPACE = "assignments", "assign_reviews", "reviewq"
#: the share of the requests' demand that the caps leave room for (some entries fail)
CAP_ROOM = 0.95


def reviewer_label(n: int) -> str:
    return f"pb_user_{n}"


def reviewer_email(n: int) -> str:
    return f"pb{n}@example.org"


def held_before(n: int) -> int:
    """How many reviews reviewer n holds before any request of the bench."""
    return n % HELD_PER_REVIEWER


def binding_cap(requests: int) -> int:
    """A maxPerReviewer that leaves room for about CAP_ROOM of `requests` single reviews."""
    held = sum(held_before(n) for n in range(REVIEWERS))
    return max(1, round((CAP_ROOM * requests + held) / REVIEWERS))


# --- the data set ------------------------------------------------------------------------------


def build(rebuild: bool) -> None:
    """The data set, unless a complete one is already there."""
    from store import Review, Reviewer, database
    from store.migrations import drop_everything, migrate

    if rebuild:
        drop_everything()
    migrate()
    expected = REVIEWS + WARM_REVIEWS + sum(held_before(n) for n in range(REVIEWERS))
    complete = Reviewer.select().where(Reviewer.external_id.startswith("pb_user_")).count()
    if complete == REVIEWERS and Review.select().count() == expected:
        return
    drop_everything()
    migrate()
    started = time.perf_counter()
    with database.atomic():
        _reviewers_and_calls()
        for prefix, count in (("pb_rev_", REVIEWS), ("pb_warm_", WARM_REVIEWS)):
            sql = PROPOSALS_SQL.replace(":prefix", prefix).replace(":count", str(count))
            database.execute_sql(sql.replace(":call", CALL_ID).replace("%", "%%"))
            database.execute_sql(UNASSIGNED_SQL.replace(":prefix", prefix).replace("%", "%%"))
        database.execute_sql(HELD_SQL.replace(":call", HELD_CALL_ID).replace("%", "%%"))
    database.execute_sql("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    print(f"set-up: {REVIEWERS} reviewers, {expected:,} reviews in {seconds:.1f} s")


def _reviewers_and_calls() -> None:
    from store import Call, Reviewer

    Call.create(name="Pipeline bench", external_id=CALL_ID)
    Call.create(name="Pipeline bench, held reviews", external_id=HELD_CALL_ID)
    Reviewer.insert_many(
        [
            {"name": f"Reviewer {n}", "email": reviewer_email(n), "external_id": reviewer_label(n)}
            for n in range(REVIEWERS)
        ]
    ).execute()


PROPOSALS_SQL = """
INSERT INTO proposal (uuid, created, modified, external_id, call_id, name, slug, summary,
    keywords, organization, state)
SELECT gen_random_uuid(), now(), now(), ':prefix' || g, c.id, 'Proposal :prefix' || g,
    ':prefix' || g, '', '[]', '', 'submitted'
FROM generate_series(0, :count - 1) AS g, call c WHERE c.external_id = ':call'
"""

UNASSIGNED_SQL = """
INSERT INTO review (uuid, created, modified, external_id, proposal_id, reviewer_id, state,
    priority, deadline, assigned_at)
SELECT gen_random_uuid(), now(), now(), p.external_id, p.id, NULL, 'unassigned', 'normal',
    NULL, NULL
FROM proposal p WHERE p.external_id LIKE ':prefix%'
"""

HELD_SQL = """
WITH slots AS (
    SELECT r.id AS reviewer_id, r.external_id AS rid, k
    FROM reviewer r
    CROSS JOIN generate_series(0, 3) AS k
    WHERE r.external_id LIKE 'pb_user_%'
      AND k < substr(r.external_id, 9)::int % 4
), proposals AS (
    INSERT INTO proposal (uuid, created, modified, external_id, call_id, name, slug, summary,
        keywords, organization, state)
    SELECT gen_random_uuid(), now(), now(), 'pb_held_' || s.rid || '_' || s.k, c.id,
        'Held ' || s.rid, 'pb-held-' || s.rid || '-' || s.k, '', '[]', '', 'submitted'
    FROM slots s, call c WHERE c.external_id = ':call'
    RETURNING id, external_id
)
INSERT INTO review (uuid, created, modified, external_id, proposal_id, reviewer_id, state,
    priority, deadline, assigned_at)
SELECT gen_random_uuid(), now(), now(), p.external_id, p.id, s.reviewer_id, 'in_review',
    'normal', NULL, now()
FROM proposals p JOIN slots s ON p.external_id = 'pb_held_' || s.rid || '_' || s.k
"""


def reset() -> None:
    """Every bench review back to unassigned; requests and notifications deleted."""
    from store import AssignmentRequest, Call, Notification, OutboundMessage, Proposal, Review
    from store.enums import Priority, ReviewState

    bench_call = Call.select(Call.id).where(Call.external_id == CALL_ID)
    proposals = Proposal.select(Proposal.id).where(Proposal.call.in_(bench_call))
    Review.update(
        reviewer=None,
        state=ReviewState.UNASSIGNED,
        assigned_at=None,
        deadline=None,
        priority=Priority.NORMAL,
    ).where(Review.proposal.in_(proposals), Review.state != ReviewState.UNASSIGNED).execute()
    AssignmentRequest.delete().execute()
    Notification.delete().execute()
    OutboundMessage.delete().execute()


# --- the requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestPlan:
    """The requests of one phase: their ids, bodies, and the cap they carry (None: none)."""

    ids: list[str]
    bodies: list[dict[str, Any]]
    cap: int | None

    @property
    def reviews(self) -> int:
        return sum(len(body["reviewIds"]) for body in self.bodies)


def plan_requests(
    count: int,
    reviews_each: int,
    pool_size: int,
    cap: int | None,
    *,
    prefix: str = "pb_rev_",
    seed: int = 14,
) -> RequestPlan:
    """`count` load_balanced requests of `reviews_each` reviews, each pool `pool_size`
    reviewers drawn at random out of REVIEWERS (so pools overlap), notifyReviewers on."""
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        strategy: dict[str, Any] = {
            "type": "load_balanced",
            "pool": [reviewer_label(n) for n in rng.sample(range(REVIEWERS), pool_size)],
        }
        if cap is not None:
            strategy["maxPerReviewer"] = cap
        reviews = [f"{prefix}{i * reviews_each + k}" for k in range(reviews_each)]
        bodies.append(
            {"reviewIds": reviews, "assignmentStrategy": strategy, "notifyReviewers": True}
        )
    return RequestPlan([str(uuid.uuid4()) for _ in bodies], bodies, cap)


def push_raw(
    client: redis.Redis,
    namespace: str,
    queue: str,
    actor: str,
    args_list: Iterable[list[Any]],
) -> int:
    """Push one raw dramatiq message per args in one pipeline (HSET payload, RPUSH id)."""
    pipe = client.pipeline(transaction=False)
    pushed = 0
    for args in args_list:
        message_id = str(uuid.uuid4())
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue,
            actor_name=actor,
            args=tuple(args),
            kwargs={},
            options={"redis_message_id": message_id},
            message_id=message_id,
        )
        pipe.hset(f"{namespace}:{queue}.msgs", message_id, message.encode())
        pipe.rpush(f"{namespace}:{queue}", message_id)
        pushed += 1
        if pushed % 2000 == 0:
            pipe.execute()
    pipe.execute()
    return pushed


def push_requests(client: redis.Redis, plan: RequestPlan) -> int:
    """The plan's requests as raw `assign_reviews` messages on the assignments queue."""
    messages = (
        [{"request": body, "request_id": request_id}]
        for request_id, body in zip(plan.ids, plan.bodies, strict=True)
    )
    return push_raw(client, NAMESPACE, ASSIGN_QUEUE, ASSIGN_ACTOR, messages)
