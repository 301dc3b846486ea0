"""Counting what went wrong in a chaos run, each count from evidence the code under test does
not keep for itself:

- lost / failed: requests the producer saw accepted that never finished, or finished `failed`;
- duplicated: reviews given twice, from the audit trigger on the review table (every write that
  puts a review `in_review`, committed or not at all), from the request results (two requests
  claiming one review) and from the two disagreeing (the row's holder is not the one the result
  names, or a result names a review the row does not show held);
- over capacity: reviewers holding more `in_review` reviews than their pool entry's
  `max_assignments` (the review rows), and how many reached the cap (proof that caps bound);
- mail: messages the SMTP server received per dedupe key (via the Message-ID, derived from the
  outbox row's uuid), against the e-mails the request results and expired batches call for:
  missing, duplicated (outside and inside the documented window: a fault around the moment
  the server accepted the first copy, WINDOW_*), and late (first copy more than 60 s after
  the first instant the system was up after the row was written);
- outbox rows still `pending` or `sending` at the end;
- expiry: batches overdue but not expired (their managers' notices count with the mail).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from peewee import JOIN

from store import AssignmentBatch, AssignmentRequest, Notification, Review, Reviewer, database
from store.calls import Proposal, ReviewerPoolEntry
from store.enums import (
    BatchStatus,
    NotificationKind,
    NotificationStatus,
    RequestStatus,
    ReviewState,
)
from tests.reliability.chaos.services import Delivery

LATE_AFTER_SECONDS = 60.0
#: A duplicate whose first copy was accepted this close to a fault falls in the documented
#: window: the fault came between the SMTP accept and the mark. A worker SIGKILL makes dramatiq
#: stop the node's other worker processes within about a second, and an actor interrupted by
#: that shutdown is in the same window, so the fault may also come shortly BEFORE the accept.
WINDOW_AFTER_SECONDS = 2.0
WINDOW_BEFORE_SECONDS = 3.0
AUDIT_TABLE = "chaos_review_audit"
MESSAGE_ID = re.compile(r"<notification\.([0-9a-f-]{36})@")


@dataclass(frozen=True)
class Fault:
    """One fault injected: from `injected` until the system was back (`recovered`), epoch s."""

    kind: str
    injected: float
    recovered: float
    note: str = ""
    #: it can fall between an SMTP accept and the mark (a worker dies, the database goes)
    interrupts_delivery: bool = True


@dataclass
class Tally:
    requests: int = 0
    lost: int = 0
    failed: int = 0
    reviews_assigned: int = 0
    duplicated: int = 0
    over_capacity: int = 0
    reviewers: int = 0
    reviewers_at_cap: int = 0
    capacity_refusals: int = 0
    mail_expected: int = 0
    mail_delivered: int = 0
    mail_missing: int = 0
    mail_duplicated: int = 0
    mail_duplicated_in_window: int = 0
    mail_late: int = 0
    mail_worst_lateness_s: float = 0.0
    outbox_left: int = 0
    batches_expired: int = 0
    expiry_lost: int = 0
    details: dict[str, list[str]] = field(default_factory=dict)

    #: the counts that must be zero for a run to pass
    FAILURES = (
        "lost",
        "failed",
        "duplicated",
        "over_capacity",
        "mail_missing",
        "mail_duplicated",
        "mail_late",
        "outbox_left",
        "expiry_lost",
    )

    def problems(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FAILURES if getattr(self, name)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def install_audit() -> None:
    """A trigger recording every write that puts a review in `in_review` (PostgreSQL)."""
    statements = [
        f"DROP TABLE IF EXISTS {AUDIT_TABLE}",
        f"CREATE TABLE {AUDIT_TABLE} (id bigserial PRIMARY KEY, review_id integer,"
        " reviewer_id integer, at timestamptz DEFAULT clock_timestamp())",
        "CREATE OR REPLACE FUNCTION chaos_review_audit() RETURNS trigger AS $$ BEGIN"
        " IF NEW.state = 'in_review' AND (OLD.state IS DISTINCT FROM NEW.state"
        " OR OLD.reviewer_id IS DISTINCT FROM NEW.reviewer_id"
        " OR OLD.assigned_at IS DISTINCT FROM NEW.assigned_at) THEN"
        f" INSERT INTO {AUDIT_TABLE} (review_id, reviewer_id) VALUES (NEW.id, NEW.reviewer_id);"
        " END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS chaos_review_audit ON review",
        "CREATE TRIGGER chaos_review_audit AFTER UPDATE ON review FOR EACH ROW"
        " EXECUTE FUNCTION chaos_review_audit()",
    ]
    with database.atomic():
        for sql in statements:
            database.execute_sql(sql)


def count(
    request_ids: Sequence[int],
    deliveries: Sequence[Delivery],
    faults: Sequence[Fault],
    *,
    until: datetime,
) -> Tally:
    """Everything the module docstring lists, for the requests the producer saw accepted;
    batches count as overdue when they expired before `until` (naive UTC)."""
    tally = Tally(requests=len(request_ids))
    requests = list(AssignmentRequest.select().where(AssignmentRequest.id.in_(list(request_ids))))
    _count_requests(tally, request_ids, requests)
    expected_mail = _count_reviews(tally, requests)
    expected_mail |= _count_expiry(tally, until)
    _count_mail(tally, expected_mail, deliveries, faults)
    left = list(
        Notification.select().where(
            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING])
        )
    )
    tally.outbox_left = len(left)
    tally.details["outbox_left"] = [
        f"{n.dedupe_key} {n.status.value} attempts={n.attempts} claimed_at={n.claimed_at}"
        for n in left[:10]
    ]
    return tally


def _count_requests(
    tally: Tally, request_ids: Sequence[int], requests: list[AssignmentRequest]
) -> None:
    found = {r.id for r in requests}
    lost = [r for r in request_ids if r not in found]
    lost += [
        r.id for r in requests if r.status not in (RequestStatus.SUCCEEDED, RequestStatus.FAILED)
    ]
    failed = [r for r in requests if r.status == RequestStatus.FAILED]
    tally.lost = len(lost)
    tally.failed = len(failed)
    tally.details["lost"] = [str(r) for r in lost[:10]]
    tally.details["failed"] = [f"{r.id}: {r.error}" for r in failed[:10]]


def _count_reviews(tally: Tally, requests: list[AssignmentRequest]) -> set[str]:
    """Duplicates and capacity; returns the review-assigned dedupe keys the results call for."""
    claims: defaultdict[str, list[str]] = defaultdict(list)  # review external id -> holders
    expected: set[str] = set()
    labels: set[str] = set()
    for request in requests:
        result: dict[str, Any] = request.result or {}
        if request.status != RequestStatus.SUCCEEDED:
            continue
        for entry in result.get("assignments", []):
            if entry.get("status") == "success":
                claims[entry["reviewId"]].append(entry["assignedTo"])
            elif "capacity" in str(entry.get("error", "")):
                tally.capacity_refusals += 1
        for line in result.get("summary", []):
            if line.get("assignedCount"):
                labels.add(line["userId"])
                expected.add(f"{request.uuid}|{line['userId']}")
    rows = {
        r.external_id: r
        for r in Review.select(Review, Reviewer)
        .join(Reviewer, JOIN.LEFT_OUTER, on=(Review.reviewer == Reviewer.id))
        .where(Review.external_id.in_(list(claims)) | (Review.state == ReviewState.IN_REVIEW))
    }
    held = {ext: r for ext, r in rows.items() if r.state == ReviewState.IN_REVIEW}
    tally.reviews_assigned = len(held)
    twice: set[str] = {ext for ext, holders in claims.items() if len(holders) > 1}
    for ext, holders in claims.items():
        row = rows.get(ext)
        holder = row.reviewer.external_id if row is not None and row.reviewer_id else None
        if row is None or row.state != ReviewState.IN_REVIEW or holder != holders[0]:
            twice.add(ext)
    twice |= {ext for ext in held if ext not in claims}
    audited = database.execute_sql(
        f"SELECT r.external_id FROM {AUDIT_TABLE} a JOIN review r ON r.id = a.review_id"
        " GROUP BY r.external_id HAVING count(*) > 1"
    ).fetchall()
    twice |= {ext for (ext,) in audited}
    tally.duplicated = len(twice)
    tally.details["duplicated"] = sorted(twice)[:10]
    _count_capacity(tally)
    uuids = dict(
        Reviewer.select(Reviewer.external_id, Reviewer.uuid)
        .where(Reviewer.external_id.in_(list(labels)))
        .tuples()
    )
    return {
        f"{NotificationKind.REVIEW_ASSIGNED.value}:{key.split('|')[0]}:{uuids[key.split('|')[1]]}"
        for key in expected
    }


def _count_capacity(tally: Tally) -> None:
    """Reviewers above (and at) the cap of their pool entry, from the review rows."""
    entries = ReviewerPoolEntry.select(
        ReviewerPoolEntry.reviewer, ReviewerPoolEntry.call, ReviewerPoolEntry.max_assignments
    ).tuples()
    caps = {(reviewer, call): cap for reviewer, call, cap in entries}
    held = Counter(
        (reviewer, call)
        for reviewer, call in Review.select(Review.reviewer, Proposal.call)
        .join(Proposal)
        .where(Review.state == ReviewState.IN_REVIEW)
        .tuples()
    )
    over = [
        f"reviewer {r} holds {n} of {caps.get((r, c))}"
        for (r, c), n in held.items()
        if n > caps.get((r, c), 0)
    ]
    tally.reviewers = len(caps)
    tally.reviewers_at_cap = sum(1 for key, n in held.items() if n == caps.get(key))
    tally.over_capacity = len(over)
    tally.details["over_capacity"] = over[:10]


def _count_expiry(tally: Tally, until: datetime) -> set[str]:
    """Overdue batches left unexpired; returns the expiry-notice keys called for."""
    overdue = AssignmentBatch.select().where(
        AssignmentBatch.expires_at < until,
        AssignmentBatch.status.in_([BatchStatus.SENT, BatchStatus.EXPIRED]),
    )
    lost = [b for b in overdue if b.status != BatchStatus.EXPIRED]
    tally.expiry_lost = len(lost)
    tally.batches_expired = (
        AssignmentBatch.select().where(AssignmentBatch.status == BatchStatus.EXPIRED).count()
    )
    tally.details["expiry_lost"] = [str(b.uuid) for b in lost[:10]]
    # The managers' notice is one digest per call and run: each expired batch must be in one
    # (its manager_notified flag is set in the digest row's transaction), and every digest row
    # written must have been delivered. A batch in none stands for a notice never delivered.
    digests = Notification.select(Notification.dedupe_key).where(
        Notification.kind == NotificationKind.EXPIRED_NOTICE
    )
    unnotified = {
        f"{NotificationKind.EXPIRED_NOTICE.value}:not-in-any-digest:{b.uuid}"
        for b in overdue
        if b.status == BatchStatus.EXPIRED and not b.manager_notified
    }
    return {key for (key,) in digests.tuples()} | unnotified


def _count_mail(
    tally: Tally, expected: set[str], deliveries: Sequence[Delivery], faults: Sequence[Fault]
) -> None:
    by_uuid: defaultdict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        found = MESSAGE_ID.search(delivery.message_id)
        by_uuid[found.group(1) if found else delivery.message_id].append(delivery)
    rows = {
        str(uuid): (key, created)
        for uuid, key, created in Notification.select(
            Notification.uuid, Notification.dedupe_key, Notification.created
        ).tuples()
    }
    delivered: dict[str, list[Delivery]] = {}
    created_at: dict[str, float] = {}
    for uuid, copies in by_uuid.items():
        key, created = rows.get(uuid, (f"unknown:{uuid}", None))
        delivered[key] = sorted(copies, key=lambda d: d.at)
        if created is not None:
            created_at[key] = created.replace(tzinfo=UTC).timestamp()
    tally.mail_delivered = len(delivered)
    missing = [key for key in expected if not _matching(key, delivered)]
    tally.mail_expected = len(expected)
    tally.mail_missing = len(missing)
    tally.details["mail_missing"] = sorted(missing)[:10]
    duplicated: list[str] = []
    in_window: list[str] = []
    late: list[str] = []
    for key, copies in delivered.items():
        if len(copies) > 1:
            first = copies[0].at
            near = [
                f.kind
                for f in faults
                if f.interrupts_delivery
                and first - WINDOW_BEFORE_SECONDS <= f.injected <= first + WINDOW_AFTER_SECONDS
            ]
            line = f"{key} x{len(copies)}" + (f" ({near[0]})" if near else "")
            (in_window if near else duplicated).append(line)
        if key in created_at:
            lateness = copies[0].at - up_after(created_at[key], faults)
            tally.mail_worst_lateness_s = max(tally.mail_worst_lateness_s, round(lateness, 1))
            if lateness > LATE_AFTER_SECONDS:
                late.append(f"{key} {lateness:.0f} s")
    tally.mail_duplicated = len(duplicated)
    tally.mail_duplicated_in_window = len(in_window)
    tally.mail_late = len(late)
    tally.details["mail_duplicated"] = duplicated[:10]
    tally.details["mail_duplicated_in_window"] = in_window[:10]
    tally.details["mail_late"] = late[:10]


def _matching(expected: str, delivered: dict[str, list[Delivery]]) -> bool:
    if expected.endswith(":*"):
        prefix = expected[:-1]
        return any(key.startswith(prefix) for key in delivered)
    return expected in delivered


def up_after(instant: float, faults: Iterable[Fault]) -> float:
    """The first moment at or after `instant` that no fault was in progress."""
    moment = instant
    changed = True
    while changed:
        changed = False
        for fault in faults:
            if fault.injected <= moment < fault.recovered:
                moment = fault.recovered
                changed = True
    return moment


def as_naive_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
