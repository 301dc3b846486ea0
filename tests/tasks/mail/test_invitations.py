"""The invitation e-mail of a sent batch: content by disclosure level, COI-blocked items, note,
deadline, link, escaping, header safety and the dedupe key per send occasion."""

from __future__ import annotations

import pytest
from peewee import Database

from store import AssignmentBatch, Notification, Proposal, write_transaction
from store.enums import Disclosure
from tasks.batches.send import send_batch, send_batch_locked
from tasks.links import response_link
from tasks.mail.invitations import invitation_dedupe_key
from tests.builders import (
    NOW,
    PUBLIC_URL,
    BatchWorld,
    build_batch_world,
)


def send(world: BatchWorld) -> Notification:
    result = send_batch(world.manager, str(world.batch.uuid), NOW)
    return Notification.get_by_id(result.notification_ids[0])


def bodies(notification: Notification) -> tuple[str, str]:
    return notification.text_body, notification.html_body


@pytest.fixture
def world(db: Database, public_url: str) -> BatchWorld:
    return build_batch_world()


def test_the_subject_counts_the_proposals_and_names_the_call(world: BatchWorld) -> None:
    notification = send(world)
    assert notification.subject == 'You have 3 proposal(s) to review for "Quantum Computing 2026"'
    assert (notification.recipient, notification.recipient_name) == (
        "rita@example.org",
        "Rita Reviewer",
    )


def test_the_body_greets_the_reviewer_and_gives_call_titles_note_deadline_and_link(
    world: BatchWorld,
) -> None:
    notification = send(world)
    for body in bodies(notification):
        assert "Rita Reviewer" in body
        assert "Quantum Computing 2026" in body
        for title in ("Qubits", "Gates", "Blocked one"):
            assert title in body
        assert "Thanks!" in body
        assert "2026-03-08 12:00 UTC" in body
        assert "Respond here: " in body
        assert response_link(world.batch) in body
        assert response_link(world.batch).startswith(f"{PUBLIC_URL}/respond/")


def test_titles_only_shows_no_summary(world: BatchWorld) -> None:
    for body in bodies(send(world)):
        assert "About qubits" not in body and "Summary" not in body


@pytest.mark.parametrize("level", [Disclosure.TITLES_AND_SUMMARIES, Disclosure.FULL_DETAILS])
def test_summaries_are_shown_when_the_call_discloses_them_but_never_for_a_coi_blocked_item(
    db: Database,
    public_url: str,
    level: Disclosure,
) -> None:
    world = build_batch_world(proposal_disclosure=level)
    for body in bodies(send(world)):
        assert "About qubits" in body and "About gates" in body
        assert "Secret summary" not in body
        assert "conflict of interest" in body


def test_full_details_adds_keywords_and_organization(db: Database, public_url: str) -> None:
    world = build_batch_world(proposal_disclosure=Disclosure.FULL_DETAILS)
    Proposal.update(keywords=["qubit", "error correction"], organization="CERN").execute()
    for body in bodies(send(world)):
        assert "qubit, error correction" in body
        assert "CERN" in body


def test_summaries_level_shows_no_keywords_or_organization(db: Database, public_url: str) -> None:
    world = build_batch_world(proposal_disclosure=Disclosure.TITLES_AND_SUMMARIES)
    Proposal.update(keywords=["qubit"], organization="CERN").execute()
    for body in bodies(send(world)):
        assert "CERN" not in body and "Keywords" not in body


def test_no_note_means_no_note_section(world: BatchWorld) -> None:
    AssignmentBatch.update(manager_notes="").execute()
    for body in bodies(send(world)):
        assert "Note from the call manager" not in body


def test_user_text_is_escaped_in_html_and_verbatim_in_text(world: BatchWorld) -> None:
    hostile = '<script>alert("x")</script>'
    AssignmentBatch.update(manager_notes=hostile).execute()
    Proposal.update(name="<img src=x onerror=alert(1)>").where(
        Proposal.id == world.items[0].proposal_id
    ).execute()
    notification = send(world)
    assert "<script>" not in notification.html_body and "<img" not in notification.html_body
    assert "&lt;script&gt;" in notification.html_body
    assert "&lt;img src=x onerror=alert(1)&gt;" in notification.html_body
    assert hostile in notification.text_body


def test_names_and_notes_with_line_breaks_cannot_add_mail_headers(world: BatchWorld) -> None:
    world.call.name = "Evil\r\nBcc: victim@example.org"
    world.call.save()
    world.reviewer.name = "Rita\nX-Evil: 1"
    world.reviewer.save()
    AssignmentBatch.update(manager_notes="hi\r\nBcc: victim@example.org").execute()
    notification = send(world)
    assert "\n" not in notification.subject and "\r" not in notification.subject
    assert notification.subject == (
        'You have 3 proposal(s) to review for "Evil Bcc: victim@example.org"'
    )
    assert notification.recipient_name == "Rita X-Evil: 1"


def test_the_dedupe_key_names_the_batch_and_the_send_occasion(world: BatchWorld) -> None:
    notification = send(world)
    batch = world.fresh()
    assert notification.dedupe_key == invitation_dedupe_key(batch)
    assert notification.dedupe_key == f"invitation:{batch.uuid}:{NOW.isoformat()}.000000"


def test_a_reviewer_without_a_valid_address_is_sent_the_batch_but_no_mail(
    world: BatchWorld,
) -> None:
    world.reviewer.email = "not an address"
    world.reviewer.save()
    result = send_batch(world.manager, str(world.batch.uuid), NOW)
    assert result.notification_ids == []
    assert world.fresh().sent_at == NOW
    assert Notification.select().count() == 0


def test_the_same_occasion_twice_writes_one_invitation(world: BatchWorld) -> None:
    with write_transaction():
        batch = AssignmentBatch.get_by_id(world.batch.id)
        first = send_batch_locked(batch, now=NOW)
        AssignmentBatch.update(status="draft").execute()
        second = send_batch_locked(AssignmentBatch.get_by_id(world.batch.id), now=NOW)
    assert len(first) == 1 and second == []
    assert Notification.select().count() == 1
