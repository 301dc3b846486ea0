"""The outbox writer on SQLite and PostgreSQL: dedupe, rendering, escaping, enqueue after commit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from peewee import Database

from store.enums import NotificationKind, NotificationStatus
from store.outbox import Notification
from tasks.mail import outbox
from tasks.mail.outbox import (
    AssignedReview,
    EnqueueInsideTransactionError,
    InvalidRecipientError,
    TransactionRequiredError,
    queue_email,
    queue_review_assigned,
)
from tests.builders import PUBLIC_URL
from workers import delivery
from workers.redis_keys import MAIL_QUEUE

# every rendered link starts with PUBLIC_URL
pytestmark = pytest.mark.usefixtures("public_url")


def review(review_id: str = "rev_1", title: str = "Graph colouring at scale") -> AssignedReview:
    return AssignedReview(
        review_id=review_id,
        proposal_title=title,
        priority="high",
        deadline=datetime(2024, 1, 16, 17, 0),
    )


def queue_assigned(
    db: Database,
    *,
    reviews: list[AssignedReview] | None = None,
    name: str = "Ada Lovelace",
    request_id: str = "req-1",
) -> int | None:
    with db.atomic():
        return queue_review_assigned(
            request_id=request_id,
            reviewer_id="reviewer-1",
            recipient="ada@example.org",
            recipient_name=name,
            reviews=reviews or [review()],
        )


def test_the_same_dedupe_key_twice_writes_one_row_and_returns_none_the_second_time(
    db: Database,
) -> None:
    first = queue_assigned(db)
    second = queue_assigned(db)
    assert first is not None
    assert second is None
    assert [n.id for n in Notification.select()] == [first]


def test_another_request_for_the_same_reviewer_is_another_notification(db: Database) -> None:
    assert queue_assigned(db, request_id="req-1") != queue_assigned(db, request_id="req-2")
    assert Notification.select().count() == 2


def test_a_review_assigned_notification_lists_every_review_once_in_one_pending_row(
    db: Database,
) -> None:
    reviews = [review("rev_1", "Graph colouring"), review("rev_2", "Sparse solvers")]
    notification = Notification.get_by_id(queue_assigned(db, reviews=reviews))
    assert notification.status == NotificationStatus.PENDING
    assert notification.kind == NotificationKind.REVIEW_ASSIGNED
    assert notification.attempts == 0
    assert notification.dedupe_key == "review_assigned:req-1:reviewer-1"
    assert (notification.recipient, notification.recipient_name) == (
        "ada@example.org",
        "Ada Lovelace",
    )
    assert notification.subject == "2 reviews assigned to you"
    for body in (notification.text_body, notification.html_body):
        assert "Ada Lovelace" in body
        assert "2024-01-16 17:00 UTC" in body
        assert "high" in body
        for item in reviews:
            assert body.count(item.proposal_title) == 1
            assert f"{PUBLIC_URL}/me#review-{item.review_id}" in body


def test_one_review_gets_a_singular_subject(db: Database) -> None:
    notification = Notification.get_by_id(queue_assigned(db))
    assert notification.subject == "1 review assigned to you"


def test_user_text_is_escaped_in_html_and_kept_verbatim_in_text(db: Database) -> None:
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    notification = Notification.get_by_id(
        queue_assigned(db, reviews=[review(title=hostile)], name="<img src=x onerror=alert(1)>")
    )
    assert "<script>" not in notification.html_body
    assert "<img" not in notification.html_body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in (
        notification.html_body
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in notification.html_body
    assert hostile in notification.text_body


def test_a_recipient_name_with_line_breaks_is_stored_on_one_line(db: Database) -> None:
    notification = Notification.get_by_id(
        queue_assigned(db, name="Eve\r\nBcc: victim@example.org\u2028\tX-Evil: 1")
    )
    assert notification.recipient_name == "Eve Bcc: victim@example.org X-Evil: 1"


def test_user_text_in_a_subject_template_cannot_break_the_subject_line(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "note.subject.j2").write_text("Note: {{ note }}\n")
    (tmp_path / "note.txt.j2").write_text("{{ note }}\n")
    (tmp_path / "note.html.j2").write_text("<p>{{ note }}</p>\n")
    monkeypatch.setattr(outbox, "TEMPLATE_DIR", tmp_path)
    outbox._environment.cache_clear()
    try:
        with db.atomic():
            new_id = queue_email(
                NotificationKind.INVITATION,
                recipient="ada@example.org",
                recipient_name="Ada",
                template="note",
                context={"note": "hi\r\nBcc: victim@example.org\n\nbody"},
                dedupe_key="note:1",
            )
    finally:
        outbox._environment.cache_clear()
    subject = Notification.get_by_id(new_id).subject
    assert subject == "Note: hi Bcc: victim@example.org body"


@pytest.mark.parametrize(
    "recipient",
    [
        "",
        "ada",
        "ada@",
        "ada@example.org, eve@example.org",
        "ada@example.org\r\nBcc: eve@example.org",
        "Ada <ada@example.org>",
        "ada lovelace@example.org",
    ],
)
def test_a_recipient_that_is_not_one_address_is_refused_with_a_clear_error(
    db: Database, recipient: str
) -> None:
    with pytest.raises(ValueError, match="recipient") as caught, db.atomic():
        queue_review_assigned(
            request_id="req-1",
            reviewer_id="reviewer-1",
            recipient=recipient,
            recipient_name="Ada",
            reviews=[review()],
        )
    assert isinstance(caught.value, InvalidRecipientError)
    assert Notification.select().count() == 0


def test_writing_a_notification_outside_a_transaction_is_refused(db: Database) -> None:
    with pytest.raises(TransactionRequiredError):
        queue_review_assigned(
            request_id="req-1",
            reviewer_id="reviewer-1",
            recipient="ada@example.org",
            recipient_name="Ada",
            reviews=[review()],
        )
    assert Notification.select().count() == 0


def test_a_rolled_back_transaction_leaves_no_notification(db: Database) -> None:
    with db.atomic() as transaction:
        queue_review_assigned(
            request_id="req-1",
            reviewer_id="reviewer-1",
            recipient="ada@example.org",
            recipient_name="Ada",
            reviews=[review()],
        )
        transaction.rollback()
    assert Notification.select().count() == 0


def test_enqueue_inside_an_open_transaction_is_refused_and_sends_nothing(
    db: Database, stub_broker: StubBroker
) -> None:
    new_id = queue_assigned(db)
    with pytest.raises(EnqueueInsideTransactionError, match="after the commit"), db.atomic():
        outbox.enqueue_deliveries([new_id])
    assert stub_broker.queues[MAIL_QUEUE].qsize() == 0


def test_enqueue_after_the_commit_sends_one_message_per_batch_of_new_notifications(
    db: Database, stub_broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    ids = [queue_assigned(db, request_id=f"req-{n}") for n in range(3)]
    assert None not in ids
    queue = stub_broker.queues[MAIL_QUEUE]

    def sent() -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (message.actor_name, message.args)
            for message in (Message.decode(queue.get_nowait()) for _ in range(queue.qsize()))
        ]

    outbox.enqueue_deliveries([ids[0], None])
    assert sent() == [("deliver_notification", (ids[0],))]
    outbox.enqueue_deliveries([*ids, None])
    assert sent() == [
        ("deliver_notifications", (ids[:2],)),
        ("deliver_notification", (ids[2],)),
    ]
    outbox.enqueue_deliveries([None])
    assert sent() == []


def test_a_dedupe_key_longer_than_its_column_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="dedupe_key"), db.atomic():
        queue_email(
            NotificationKind.REVIEW_ASSIGNED,
            recipient="ada@example.org",
            recipient_name="Ada",
            template="review_assigned",
            context={"reviews": []},
            dedupe_key="k" * 256,
        )
    assert Notification.select().count() == 0
