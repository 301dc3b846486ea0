"""The pool invitation use cases on SQLite and PostgreSQL: add (all or nothing, one e-mail per
new entry, never a second entry), accept with declared conflicts (all or nothing), decline,
resend, and a race of two answers to one invitation (one wins, the other is refused)."""

from __future__ import annotations

import pytest
from peewee import Database

from store import ConflictOfInterest, Notification, ReviewerPoolEntry, User
from store.enums import InvitationStatus, NotificationKind
from tasks.errors import FieldRejected, Forbidden, InvitationRefused, NotFound
from tasks.pools.invitations import (
    DeclaredConflict,
    accept_invitation,
    add_reviewers,
    decline_invitation,
    resend_invitation,
)
from tasks.results import PoolAnswered
from tests.builders import run_at_once
from tests.factories import make_call, make_call_manager, make_proposal, make_reviewer, make_user


class Pool:
    def __init__(self) -> None:
        self.call = make_call()
        self.manager = make_call_manager(self.call)
        self.user = make_user()
        self.reviewer = make_reviewer(user=self.user, email="ivy@example.org")
        self.proposal = make_proposal(self.call)

    def entry(self) -> ReviewerPoolEntry:
        found: ReviewerPoolEntry = ReviewerPoolEntry.get(
            ReviewerPoolEntry.call == self.call.id, ReviewerPoolEntry.reviewer == self.reviewer.id
        )
        return found


@pytest.fixture
def pool(db: Database) -> Pool:
    return Pool()


def invited(pool: Pool) -> ReviewerPoolEntry:
    add_reviewers(pool.manager, str(pool.call.uuid), [str(pool.reviewer.uuid)])
    return pool.entry()


def test_add_is_all_or_nothing_and_never_makes_a_second_entry(pool: Pool) -> None:
    with pytest.raises(FieldRejected) as caught:
        add_reviewers(pool.manager, str(pool.call.uuid), [str(pool.reviewer.uuid), "nobody"])
    assert caught.value.body() == {"reviewer_uuids": ["Reviewer profiles not found: nobody."]}
    assert ReviewerPoolEntry.select().count() == 0 and Notification.select().count() == 0
    first = add_reviewers(
        pool.manager, pool.call.external_id or str(pool.call.uuid), [str(pool.reviewer.uuid)]
    )
    again = add_reviewers(pool.manager, str(pool.call.uuid), [str(pool.reviewer.uuid)])
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert len(first.notification_ids) == 1 and again.notification_ids == []
    assert pool.entry().invited_by_id == pool.manager.id


def test_only_the_calls_managers_add_and_resend(pool: Pool) -> None:
    stranger = make_user()
    with pytest.raises(NotFound):
        add_reviewers(stranger, str(pool.call.uuid), [str(pool.reviewer.uuid)])
    entry = invited(pool)
    with pytest.raises(Forbidden):
        resend_invitation(pool.user, str(entry.uuid))
    with pytest.raises(NotFound):
        resend_invitation(stranger, str(entry.uuid))
    resent = resend_invitation(pool.manager, str(entry.uuid))
    assert len(resent.notification_ids) == 1
    kinds = [n.kind for n in Notification.select().order_by(Notification.id)]
    assert kinds == [NotificationKind.POOL_INVITATION] * 2


def test_a_bad_declaration_refuses_the_whole_accept(pool: Pool) -> None:
    entry = invited(pool)
    good = DeclaredConflict(str(pool.proposal.uuid), "INST_SAME")
    other_call = make_proposal(make_call())
    for bad, field in (
        (DeclaredConflict(str(other_call.uuid), "INST_SAME"), "proposal_uuid"),
        (DeclaredConflict(str(pool.proposal.uuid), "NOT_A_TYPE"), "coi_type"),
        (DeclaredConflict(str(pool.proposal.uuid), "INST_DEPT", severity="huge"), "severity"),
    ):
        with pytest.raises(FieldRejected) as caught:
            accept_invitation(pool.user, str(entry.uuid), [good, bad])
        assert caught.value.field == field
    assert ConflictOfInterest.select().count() == 0
    assert pool.entry().invitation_status == InvitationStatus.PENDING


def test_decline_keeps_the_reason_and_a_manager_cannot_answer(pool: Pool) -> None:
    entry = invited(pool)
    with pytest.raises(Forbidden):
        decline_invitation(pool.manager, str(entry.uuid), "no")
    decline_invitation(pool.user, str(entry.uuid), "On leave")
    fresh = pool.entry()
    assert (fresh.invitation_status, fresh.decline_reason) == (
        InvitationStatus.DECLINED,
        "On leave",
    )
    assert fresh.response_date is not None
    with pytest.raises(InvitationRefused):
        accept_invitation(pool.user, str(entry.uuid))


def test_two_answers_at_once_one_wins(pool: Pool) -> None:
    entry = invited(pool)
    user: User = pool.user
    outcomes = run_at_once(
        lambda: accept_invitation(user, str(entry.uuid)),
        lambda: decline_invitation(user, str(entry.uuid), "Busy"),
    )
    won = [o for o in outcomes if isinstance(o, PoolAnswered)]
    refused = [o for o in outcomes if isinstance(o, InvitationRefused)]
    assert (len(won), len(refused)) == (1, 1)
    status = pool.entry().invitation_status
    assert status == (
        InvitationStatus.ACCEPTED if outcomes[0] is won[0] else InvitationStatus.DECLINED
    )
