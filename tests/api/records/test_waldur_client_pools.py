"""The published client drives `call_reviewer_pools` (list, count, retrieve, accept, decline,
resend-invitation) and the call's `reviewer-pool/` (list, invite) against a live server on
SQLite and PostgreSQL; every answer parses into the client's models, and the rows and the
outbox show the effect."""

from __future__ import annotations

from uuid import UUID

from waldur_api_client.api.call_reviewer_pools import (
    call_reviewer_pools_accept,
    call_reviewer_pools_count,
    call_reviewer_pools_decline,
    call_reviewer_pools_list,
    call_reviewer_pools_resend_invitation,
    call_reviewer_pools_retrieve,
)
from waldur_api_client.api.proposal_protected_calls import (
    proposal_protected_calls_invite_reviewers,
    proposal_protected_calls_reviewer_pool_list,
)
from waldur_api_client.models import (
    CallReviewerPool,
    CoiTypeEnum,
    InvitationAcceptError,
    InvitationAcceptResponse,
    InvitationDeclineRequest,
    InvitationDeclineResponse,
    InvitationStatusEnum,
    ReviewerInvitationRequest,
    SelfDeclaredConflictRequest,
)

from store import ConflictOfInterest, ReviewerPoolEntry
from store.enums import DetectionMethod, InvitationStatus, NotificationKind
from tests.api.records.conftest import ClientWorld, answer_of, ok, status_of
from tests.builders import notifications
from tests.factories import make_reviewer, make_user


def entry_of(world: ClientWorld) -> ReviewerPoolEntry:
    entry: ReviewerPoolEntry = ReviewerPoolEntry.get(
        ReviewerPoolEntry.call == world.world.call.id,
        ReviewerPoolEntry.reviewer == world.world.reviewer.id,
    )
    return entry


def test_a_manager_lists_counts_and_retrieves_the_pool(client_world: ClientWorld) -> None:
    w, call = client_world, client_world.world.call
    listed = ok(
        call_reviewer_pools_list.sync_detailed(client=w.manager, call_uuid=call.uuid),
        200,
        list,
    )
    assert {e.reviewer_name for e in listed} == {"Rita Reviewer", "Rob Reviewer"}
    assert all(isinstance(e, CallReviewerPool) for e in listed)
    count = call_reviewer_pools_count.sync_detailed(client=w.manager, call_uuid=call.uuid)
    assert count.status_code == 200 and count.headers["x-result-count"] == "2"
    rita = ok(
        call_reviewer_pools_retrieve.sync_detailed(entry_of(w).uuid, client=w.manager),
        200,
        CallReviewerPool,
    )
    # one accepted item with its review in progress, one pending item, one blocked by a COI
    assert (rita.current_assignments, rita.reviews_in_progress, rita.coi_count) == (2, 1, 1)
    assert rita.coi_by_severity.additional_properties == {"real": 1, "apparent": 0, "potential": 0}
    assert rita.invitation_status == InvitationStatusEnum.ACCEPTED
    assert rita.invitation_status_display == "Accepted"
    assert rita.reviewer_uuid == str(w.world.reviewer.uuid)
    pending = call_reviewer_pools_list.sync_detailed(
        client=w.manager, call_uuid=call.uuid, invitation_status=[InvitationStatusEnum.PENDING]
    )
    assert [e.reviewer_name for e in pending.parsed or []] == ["Rob Reviewer"]
    through_call = ok(
        proposal_protected_calls_reviewer_pool_list.sync_detailed(call.uuid, client=w.manager),
        200,
        list,
    )
    assert {e.uuid for e in through_call} == {e.uuid for e in listed}


def test_the_pool_is_hidden_from_another_calls_manager(client_world: ClientWorld) -> None:
    w = client_world
    assert (
        status_of(
            lambda: call_reviewer_pools_retrieve.sync_detailed(
                entry_of(w).uuid, client=w.other_manager
            )
        )
        == 404
    )
    listed = call_reviewer_pools_list.sync_detailed(
        client=w.other_manager, call_uuid=w.world.call.uuid
    )
    assert listed.status_code == 200 and listed.parsed == []
    assert (
        status_of(
            lambda: proposal_protected_calls_reviewer_pool_list.sync_detailed(
                w.world.call.uuid, client=w.other_manager
            )
        )
        == 404
    )
    # a reviewer sees their own entry, not another reviewer's
    assert (
        status_of(
            lambda: call_reviewer_pools_retrieve.sync_detailed(
                w.invitee_entry.uuid, client=w.reviewer
            )
        )
        == 404
    )
    mine = call_reviewer_pools_list.sync_detailed(client=w.reviewer, my_invitations=True)
    assert [e.uuid for e in mine.parsed or []] == [entry_of(w).uuid]


def test_a_manager_invites_reviewers_by_e_mail_through_the_outbox(
    client_world: ClientWorld,
) -> None:
    w = client_world
    new = make_reviewer(name="Nia New", email="nia@example.org")
    invited = ok(
        proposal_protected_calls_invite_reviewers.sync_detailed(
            w.world.call.uuid,
            client=w.manager,
            body=ReviewerInvitationRequest(
                reviewer_uuids=[new.uuid], max_assignments=4, invitation_message="Join us"
            ),
        ),
        200,
        list,
    )
    assert [(e.reviewer_name, e.invitation_status) for e in invited] == [
        ("Nia New", InvitationStatusEnum.PENDING)
    ]
    assert invited[0].max_assignments == 4 and invited[0].invited_by_name == "Mona Manager"
    mail = notifications(NotificationKind.POOL_INVITATION)
    assert [m.recipient for m in mail] == ["nia@example.org"]
    assert "Join us" in mail[0].text_body and "/me#pool-invitations" in mail[0].text_body
    unknown = answer_of(
        lambda: proposal_protected_calls_invite_reviewers.sync_detailed(
            w.world.call.uuid,
            client=w.manager,
            body=ReviewerInvitationRequest(reviewer_uuids=[UUID(int=7), new.uuid]),
        )
    )
    assert unknown[0] == 400 and list(unknown[1]) == ["reviewer_uuids"]
    assert ReviewerPoolEntry.select().where(ReviewerPoolEntry.call == w.world.call.id).count() == 3


def test_the_reviewer_accepts_declaring_a_conflict_and_cannot_accept_twice(
    client_world: ClientWorld,
) -> None:
    w = client_world
    proposal = w.world.items[1].proposal
    accepted = ok(
        call_reviewer_pools_accept.sync_detailed(
            w.invitee_entry.uuid,
            client=w.invitee,
            body=[
                SelfDeclaredConflictRequest(
                    proposal_uuid=proposal.uuid, coi_type=CoiTypeEnum.REL_FAMILY
                )
            ],
        ),
        200,
        InvitationAcceptResponse,
    )
    declared = ConflictOfInterest.get(ConflictOfInterest.reviewer == w.invitee_profile.id)
    assert accepted.declared_conflicts == [declared.uuid]
    entry = ReviewerPoolEntry.get_by_id(w.invitee_entry.id)
    assert entry.invitation_status == InvitationStatus.ACCEPTED and entry.response_date
    assert (declared.coi_type, declared.detection_method) == (
        "REL_FAMILY",
        DetectionMethod.SELF_DISCLOSED,
    )
    again = call_reviewer_pools_accept.sync_detailed(
        w.invitee_entry.uuid, client=w.invitee, body=[]
    )
    assert again.status_code == 400 and isinstance(again.parsed, InvitationAcceptError)
    # the call's manager may not answer for the reviewer
    forbidden = answer_of(
        lambda: call_reviewer_pools_accept.sync_detailed(
            entry_of(w).uuid, client=w.manager, body=[]
        )
    )
    assert forbidden == (403, {"detail": "You do not have permission to perform this action."})


def test_the_reviewer_declines_with_a_reason_and_the_manager_resends(
    client_world: ClientWorld,
) -> None:
    w = client_world
    declined = ok(
        call_reviewer_pools_decline.sync_detailed(
            w.invitee_entry.uuid, client=w.invitee, body=InvitationDeclineRequest(reason="Busy")
        ),
        200,
        InvitationDeclineResponse,
    )
    assert declined.detail
    after = ok(
        call_reviewer_pools_retrieve.sync_detailed(w.invitee_entry.uuid, client=w.manager),
        200,
        CallReviewerPool,
    )
    assert (after.invitation_status, after.decline_reason) == (
        InvitationStatusEnum.DECLINED,
        "Busy",
    )
    refused = answer_of(
        lambda: call_reviewer_pools_resend_invitation.sync_detailed(
            w.invitee_entry.uuid, client=w.manager
        )
    )
    assert refused[0] == 400 and list(refused[1]) == ["error"]
    pending = make_reviewer(user=make_user(), email="pat@example.org")
    entry = ReviewerPoolEntry.create(call=w.world.call.id, reviewer=pending.id)
    for _ in range(2):
        ok(
            call_reviewer_pools_resend_invitation.sync_detailed(entry.uuid, client=w.manager),
            200,
            CallReviewerPool,
        )
    # each resend is its own e-mail
    assert [m.recipient for m in notifications(NotificationKind.POOL_INVITATION)] == [
        "pat@example.org",
        "pat@example.org",
    ]
    assert (
        status_of(
            lambda: call_reviewer_pools_resend_invitation.sync_detailed(
                entry.uuid, client=w.other_manager
            )
        )
        == 404
    )
