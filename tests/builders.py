"""What the tests share, as the FastAPI full-stack template's tests/utils/: the test services,
the one clock, the worlds a test starts from and the helpers that read state back. Row factories
and the data file are in tests/factories.py; fixtures in the conftest.py of the folder using them.

The worlds compose: the reviewer's tests start from an `Invitation` (a reviewer holding a batch
of a call with its manager), the manager's from a `BatchWorld` (an invitation with three items and
the people who may or may not act on it); a `PoolWorld` is a call and its pool before any batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scheduler.jobs import JobOptions
from store import (
    AssignmentBatch,
    AssignmentItem,
    AssignmentRequest,
    Call,
    Notification,
    Proposal,
    Review,
    Reviewer,
    ReviewerPoolEntry,
    User,
    database,
)
from store.clock import utcnow
from store.enums import FINISHED_REQUEST_STATUSES, BatchStatus, ItemStatus, NotificationKind
from tasks.errors import ReviewqError, RuleViolation
from tests.factories import (
    make_assignment_batch,
    make_assignment_item,
    make_call,
    make_call_manager,
    make_pool_entry,
    make_proposal,
    make_review,
    make_reviewer,
    make_user,
    with_token,
)
from workers.broker import get_broker
from workers.redis_keys import QUEUE_NAMESPACE, SCHEDULED_QUEUE

# --- the services under test -----------------------------------------------------------------

PG_URL = os.environ.get("REVIEWQ_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/reviewq_test")
REDIS_URL = os.environ.get("REVIEWQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unfinished(ids: list[int]) -> int:
    """How many of the requests `ids` have not finished yet."""
    return int(
        AssignmentRequest.select()
        .where(
            AssignmentRequest.id.in_(ids),
            AssignmentRequest.status.not_in(list(FINISHED_REQUEST_STATUSES)),
        )
        .count()
    )


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process group that `proc` leads; SIGKILL it if it is not gone in `timeout`."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


# --- the clock and the public URLs -------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0)
DEADLINE = NOW + timedelta(days=6)
PUBLIC_URL = "https://reviews.example.org"
# FastAPI's TestClient: the API tests' PUBLIC_URL, so that `url` fields can be followed
BASE = "http://testserver"
BATCHES = "/api/assignment-batches/"
ITEMS = "/api/assignment-items/"


# --- the reviewer's invitation ---------------------------------------------------------------


@dataclass
class Invitation:
    """A call with its manager, and a reviewer (with a login) holding one batch of it."""

    call: Call
    manager: User
    reviewer_user: User
    reviewer: Reviewer
    batch: AssignmentBatch


def invite(call: Call | None = None, *, status: BatchStatus = BatchStatus.SENT) -> Invitation:
    """A batch sent a day before NOW that expires at DEADLINE (in `status`)."""
    call = call or make_call()
    manager = make_call_manager(call)
    user = make_user()
    reviewer = make_reviewer(user=user)
    batch = make_assignment_batch(
        call, reviewer, status=status, sent_at=NOW - timedelta(days=1), expires_at=DEADLINE
    )
    return Invitation(call, manager, user, reviewer, batch)


def add_item(inv: Invitation, **fields: Any) -> AssignmentItem:
    """An item of the invitation's batch for a new proposal of its call."""
    item: AssignmentItem = make_assignment_item(inv.batch, make_proposal(inv.call), **fields)
    return item


def refusal(action: Callable[[], object]) -> str:
    """The message of the RuleViolation that `action` raises."""
    with pytest.raises(RuleViolation) as caught:
        action()
    return caught.value.message


def declined(call: Call | None = None, **fields: Any) -> tuple[Invitation, AssignmentItem]:
    """A sent batch holding one item its reviewer declined."""
    inv = invite(call)
    fields.setdefault("status", ItemStatus.DECLINED)
    return inv, add_item(inv, responded_at=NOW, **fields)


def proposal_of(item: AssignmentItem) -> Proposal:
    found: Proposal = Proposal.get_by_id(item.proposal_id)
    return found


def fresh(item: AssignmentItem) -> AssignmentItem:
    found: AssignmentItem = AssignmentItem.get_by_id(item.id)
    return found


def fresh_batch(batch: AssignmentBatch) -> AssignmentBatch:
    found: AssignmentBatch = AssignmentBatch.get_by_id(batch.id)
    return found


def run_at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together (each thread its own connection); each
    outcome is the action's result or the ReviewqError it raised."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return action()
        except ReviewqError as exc:
            return exc
        finally:
            database.close()

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


# --- the manager's batch -----------------------------------------------------------------------


@dataclass
class BatchWorld(Invitation):
    """Rita's draft batch in "Quantum Computing 2026" (Mona manages it) with two items and one
    COI-blocked; staff; a manager of another call; a stranger."""

    items: list[AssignmentItem]
    staff: User
    other_manager: User
    stranger: User

    def fresh(self) -> AssignmentBatch:
        return AssignmentBatch.get_by_id(self.batch.id)

    def item_statuses(self) -> list[ItemStatus]:
        return [AssignmentItem.get_by_id(item.id).status for item in self.items]


def build_batch_world(**call_fields: Any) -> BatchWorld:
    call = make_call(name="Quantum Computing 2026", **call_fields)
    reviewer_user = make_user(username="rita")
    reviewer = make_reviewer(user=reviewer_user, name="Rita Reviewer", email="rita@example.org")
    manager = make_call_manager(call, username="mona", full_name="Mona Manager")
    batch = make_assignment_batch(call, reviewer, created_by=manager, manager_notes="Thanks!")
    items = [
        make_assignment_item(batch, make_proposal(call, name="Qubits", summary="About qubits")),
        make_assignment_item(batch, make_proposal(call, name="Gates", summary="About gates")),
        make_assignment_item(
            batch,
            make_proposal(call, name="Blocked one", summary="Secret summary"),
            status=ItemStatus.COI_BLOCKED,
            has_coi=True,
        ),
    ]
    staff = make_user(is_staff=True)
    other_manager = make_call_manager(make_call())
    stranger = make_user()
    return BatchWorld(
        call, manager, reviewer_user, reviewer, batch, items, staff, other_manager, stranger
    )


def sent_batch(world: BatchWorld, *, status: BatchStatus = BatchStatus.SENT) -> None:
    """Every batch in `status` (sent by default), sent ten days before NOW and reminded."""
    AssignmentBatch.update(
        status=status,
        sent_at=NOW - timedelta(days=10),
        expires_at=NOW - timedelta(days=3) if status == BatchStatus.EXPIRED else NOW,
        reminder_sent=True,
        manager_notified=status == BatchStatus.EXPIRED,
    ).execute()


def batches_snapshot() -> tuple[list[Any], list[Any], int]:
    """Every batch and item row's state and the number of notifications."""
    batches = list(AssignmentBatch.select().order_by(AssignmentBatch.id).dicts())
    items = list(AssignmentItem.select().order_by(AssignmentItem.id).dicts())
    return batches, items, Notification.select().count()


# --- a call and its pool, before any batch -----------------------------------------------------


@dataclass
class PoolWorld:
    call: Call
    proposals: list[Proposal]
    reviewers: list[Reviewer]
    entries: list[ReviewerPoolEntry]
    staff: Any


def build_pool_world(
    n_proposals: int = 3, n_reviewers: int = 3, k: int = 2, cap: int = 2
) -> PoolWorld:
    """A call wanting `k` reviewers a proposal; each accepted pool entry has room for `cap`."""
    call = make_call(reviewers_per_proposal=k)
    proposals = [make_proposal(call) for _ in range(n_proposals)]
    reviewers = [make_reviewer() for _ in range(n_reviewers)]
    entries = [make_pool_entry(call, r, max_assignments=cap) for r in reviewers]
    return PoolWorld(call, proposals, reviewers, entries, make_user(is_staff=True))


def pending_items(call: Call) -> list[AssignmentItem]:
    return list(
        AssignmentItem.select()
        .join(AssignmentBatch)
        .where(AssignmentBatch.call == call.id, AssignmentItem.status == ItemStatus.PENDING)
    )


def reviewers_per_proposal(call: Call) -> Counter[int]:
    return Counter(item.proposal_id for item in pending_items(call))


# --- what the item API lists -------------------------------------------------------------------


@dataclass
class ItemsWorld:
    """A call with a manager; Rita's sent batch of three items (0.9, 0.5, COI-blocked without a
    score); a draft batch of another reviewer; staff; a stranger; a manager of another call."""

    call: Call
    reviewer: Reviewer
    sent: AssignmentBatch
    draft: AssignmentBatch
    items: list[AssignmentItem]
    draft_item: AssignmentItem
    auth: dict[str, dict[str, str]]


def build_items_world() -> ItemsWorld:
    """`auth` holds an Authorization header for manager, rita, staff, stranger, other_manager."""
    call = make_call()
    rita = make_user(username="rita")
    reviewer = make_reviewer(user=rita, name="Rita")
    expires = utcnow() + timedelta(days=5)
    sent = make_assignment_batch(
        call, reviewer, status=BatchStatus.SENT, sent_at=utcnow(), expires_at=expires
    )
    items = [
        make_assignment_item(sent, affinity_score=0.9),
        make_assignment_item(sent, affinity_score=0.5),
        make_assignment_item(sent, status=ItemStatus.COI_BLOCKED, has_coi=True),
    ]
    draft = make_assignment_batch(call)
    users = {
        "manager": make_call_manager(call, full_name="Mona"),
        "rita": rita,
        "staff": make_user(is_staff=True),
        "stranger": make_user(),
        "other_manager": make_call_manager(make_call()),
    }
    auth = {name: with_token(user) for name, user in users.items()}
    return ItemsWorld(call, reviewer, sent, draft, items, make_assignment_item(draft), auth)


# --- reading answers back ----------------------------------------------------------------------


def uuids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["uuid"] for row in rows]


def response_uuids(response: Any) -> list[str]:
    """The `uuid` of every row of a list response, in its order."""
    return uuids(response.json())


def ids(*items: AssignmentItem) -> list[str]:
    return [str(item.uuid) for item in items]


def poll(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """GET `path` until the request it names has finished (a minute at most); its last body."""
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = client.get(path, headers=headers).json()
        if body["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


# --- the scheduler's queue ---------------------------------------------------------------------

OPTIONS = JobOptions()
DAY = timedelta(days=1)


def queued(redis_client: Any, queue: str) -> list[dict[str, Any]]:
    """The messages waiting on `queue`, in no particular order, removed from Redis."""
    key = f"{QUEUE_NAMESPACE}:{queue}"
    raw = redis_client.hvals(f"{key}.msgs")
    redis_client.delete(f"{key}.msgs", key)
    return [json.loads(data) for data in raw]


def run_scheduled(redis_client: Any) -> list[str]:
    """Run every message of the `scheduled` queue in process; returns the actor names."""
    names = []
    for message in queued(redis_client, SCHEDULED_QUEUE):
        get_broker().get_actor(message["actor_name"]).fn(*message["args"])
        names.append(message["actor_name"])
    return names


def notifications(kind: NotificationKind) -> list[Notification]:
    return list(Notification.select().where(Notification.kind == kind).order_by(Notification.id))


def extend(batch: AssignmentBatch, expires_at: datetime) -> None:
    """What extend-deadline does to an expired batch (domain.md): a new occasion."""
    AssignmentItem.update(status=ItemStatus.PENDING).where(
        AssignmentItem.batch == batch.id, AssignmentItem.status == ItemStatus.EXPIRED
    ).execute()
    AssignmentBatch.update(
        status=BatchStatus.SENT, expires_at=expires_at, reminder_sent=False, manager_notified=False
    ).where(AssignmentBatch.id == batch.id).execute()


def of_kind(ids: list[int], kind: NotificationKind) -> list[int]:
    """The outbox ids among `ids` whose row is of `kind` (a decline also notifies managers)."""
    rows = Notification.select(Notification.id).where(
        Notification.id.in_(ids), Notification.kind == kind
    )
    return sorted(row.id for row in rows)


# --- the pages (tests/web/) -------------------------------------------------------------------


@dataclass
class WebWorld:
    """A call with a manager (and their token), a reviewer with a login holding a SENT batch
    of three proposals made by the real use cases (the third held by a pending conflict), and
    the outbox delivered to .eml files."""

    call: Call
    manager: User
    manager_token: str
    reviewer_user: User
    reviewer_token: str
    reviewer: Reviewer
    batch: AssignmentBatch
    items: list[AssignmentItem]
    conflict: Any


def build_web_world(
    *,
    call_name: str = "Astronomy 2027",
    reviewer_name: str = "Ada Lovelace",
    titles: tuple[str, str, str] = ("Dark matter maps", "Solar wind", "Exoplanet census"),
    manager_notes: str = "Thank you for helping us.",
) -> WebWorld:
    from store import ConflictOfInterest
    from store.enums import Disclosure
    from tasks.batches.manual import create_manual_assignment
    from tasks.batches.send import send_batch
    from tasks.users import rotate_token
    from workers.delivery import deliver

    call = make_call(
        name=call_name,
        description="Telescope time, round two.",
        reviewers_per_proposal=2,
        proposal_disclosure=Disclosure.TITLES_AND_SUMMARIES,
    )
    manager = make_call_manager(call, full_name="Grace Hopper")
    user = make_user()
    reviewer = make_reviewer(user=user, name=reviewer_name)
    entry = make_pool_entry(call, reviewer, max_assignments=4)
    proposals = [
        make_proposal(call, name=title, summary=f"Summary of {title}.", keywords=["sky"])
        for title in titles
    ]
    conflict = ConflictOfInterest.create(
        call=call,
        reviewer=reviewer,
        proposal=proposals[2],
        coi_type="COAUTHOR",
        evidence="Co-authored a paper in 2024",
    )
    made = create_manual_assignment(
        manager,
        str(call.uuid),
        str(entry.uuid),
        [str(p.uuid) for p in proposals],
        manager_notes=manager_notes,
    )
    sent = send_batch(manager, str(made.batch.uuid))
    for notification_id in sent.notification_ids:
        deliver(notification_id)
    items = list(
        AssignmentItem.select()
        .where(AssignmentItem.batch == made.batch.id)
        .order_by(AssignmentItem.id)
    )
    return WebWorld(
        call=call,
        manager=manager,
        manager_token=rotate_token(manager),
        reviewer_user=user,
        reviewer_token=rotate_token(user),
        reviewer=reviewer,
        batch=AssignmentBatch.get_by_id(made.batch.id),
        items=items,
        conflict=conflict,
    )


def response_link_in_outbox(outbox: Any, recipient: str) -> str:
    """The `Respond here:` URL of the newest .eml written to `recipient` (the text part)."""
    import email
    import re
    from email import policy

    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if recipient not in str(message["To"]):
            continue
        text = message.get_body(preferencelist=("plain",))
        assert text is not None, f"{path}: no text part"
        found = re.search(r"^Respond here: (\S+)\r?$", text.get_content(), re.MULTILINE)
        if found:
            return found.group(1)
    raise AssertionError(f"no invitation to {recipient} with a response link in {outbox}")


SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


@dataclass(frozen=True)
class Site:
    url: str
    data_dir: Path

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (not committed) for people to see."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, site: Site, token: str, target: str = "/") -> None:
    """Sign in through /login's Token field, landing on `target`."""
    page.goto(f"{site.url}/login?next={target}")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


@contextlib.contextmanager
def served(app: Any, port: int) -> Iterator[None]:
    """`app` served by uvicorn in a thread on 127.0.0.1:`port` until the block ends."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- seeds/004 bulk assignment over HTTP -------------------------------------------------------


class Desk:
    """A call with reviews rev_1..rev_4, reviewers user_001..user_003 and who acts on them."""

    def __init__(self) -> None:
        self.call: Call = make_call()
        self.reviews: list[Review] = [
            make_review(make_proposal(self.call), f"rev_{i}") for i in range(1, 5)
        ]
        self.reviewers: list[Reviewer] = [make_reviewer(f"user_00{i}") for i in range(1, 4)]
        self.manager = make_call_manager(self.call)
        self.staff = make_user(is_staff=True)
        self.other_manager = make_call_manager(make_call())


def round_robin(*review_ids: str) -> dict[str, Any]:
    """A seeds/004 body assigning `review_ids` round robin over user_001..user_003."""
    return {
        "reviewIds": list(review_ids),
        "assignmentStrategy": {"type": "round_robin", "pool": ["user_001", "user_002", "user_003"]},
        "priority": "high",
        "deadline": "2030-01-16T17:00:00Z",
    }


def bearer(user: Any) -> dict[str, str]:
    """`Authorization: Bearer <token>` (seeds/004) for `user`."""
    token = with_token(user)["Authorization"].split()[1]
    return {"Authorization": f"Bearer {token}"}
