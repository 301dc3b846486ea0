"""The published client reads the records behind the links (`proposal_protected_calls` list,
count and retrieve; `proposal_proposals` list with `call_uuid`, count and retrieve;
`proposal_reviews`, `users` and `reviewer_profiles` retrieve) against a live server on SQLite
and PostgreSQL; every answer parses, and what a reviewer sees is what the call discloses."""

from __future__ import annotations

from waldur_api_client.api.proposal_proposals import (
    proposal_proposals_count,
    proposal_proposals_list,
    proposal_proposals_retrieve,
)
from waldur_api_client.api.proposal_protected_calls import (
    proposal_protected_calls_count,
    proposal_protected_calls_list,
    proposal_protected_calls_retrieve,
)
from waldur_api_client.api.proposal_reviews import proposal_reviews_retrieve
from waldur_api_client.api.reviewer_profiles import reviewer_profiles_retrieve
from waldur_api_client.api.users import users_retrieve
from waldur_api_client.models import (
    CallStates,
    Proposal,
    ProposalReview,
    ProposalReviewStateEnum,
    ProtectedCall,
    ReviewerProfile,
    User,
)

from store import AssignmentItem, Call
from store.enums import Disclosure
from tests.api.records.conftest import ClientWorld, ok, status_of
from tests.factories import make_call, make_proposal


def test_calls_list_count_and_retrieve_for_whoever_may_see_them(client_world: ClientWorld) -> None:
    w, call = client_world, client_world.world.call
    make_call(name="Someone else's")
    for client in (w.manager, w.reviewer):
        listed = ok(proposal_protected_calls_list.sync_detailed(client=client), 200, list)
        assert [c.uuid for c in listed] == [call.uuid]
        count = proposal_protected_calls_count.sync_detailed(client=client)
        assert count.headers["x-result-count"] == "1"
        one = ok(
            proposal_protected_calls_retrieve.sync_detailed(call.uuid, client=client),
            200,
            ProtectedCall,
        )
        assert (one.name, one.state) == ("Quantum Computing 2026", CallStates.ACTIVE)
    assert (
        status_of(
            lambda: proposal_protected_calls_retrieve.sync_detailed(
                call.uuid, client=w.other_manager
            )
        )
        == 404
    )


def test_proposals_list_by_call_count_and_retrieve(client_world: ClientWorld) -> None:
    w, call = client_world, client_world.world.call
    make_proposal(call, name="Not in Rita's batch")
    managed = ok(
        proposal_proposals_list.sync_detailed(client=w.manager, call_uuid=call.uuid), 200, list
    )
    assert len(managed) == 4 and all(isinstance(p, Proposal) for p in managed)
    invited = ok(
        proposal_proposals_list.sync_detailed(client=w.reviewer, call_uuid=call.uuid), 200, list
    )
    assert {p.name for p in invited} == {"Qubits", "Gates", "Blocked one"}
    count = proposal_proposals_count.sync_detailed(client=w.reviewer, call_uuid=call.uuid)
    assert count.headers["x-result-count"] == "3"
    elsewhere = proposal_proposals_list.sync_detailed(client=w.manager, call_uuid=make_call().uuid)
    assert elsewhere.parsed == []
    qubits = w.world.items[0].proposal
    assert (
        status_of(
            lambda: proposal_proposals_retrieve.sync_detailed(qubits.uuid, client=w.other_manager)
        )
        == 404
    )


def test_a_reviewer_sees_what_the_call_discloses(client_world: ClientWorld) -> None:
    w = client_world
    qubits = w.world.items[0].proposal
    for_manager = ok(
        proposal_proposals_retrieve.sync_detailed(qubits.uuid, client=w.manager), 200, Proposal
    )
    assert for_manager.description == "About qubits"
    titles_only = ok(
        proposal_proposals_retrieve.sync_detailed(qubits.uuid, client=w.reviewer), 200, Proposal
    )
    assert (titles_only.name, titles_only.description) == ("Qubits", "")
    Call.update(proposal_disclosure=Disclosure.TITLES_AND_SUMMARIES).execute()
    summaries = proposal_proposals_retrieve.sync_detailed(qubits.uuid, client=w.reviewer)
    assert summaries.parsed is not None and summaries.parsed.description == "About qubits"
    # a COI-blocked item's proposal shows its title only, as the invitation does
    blocked = w.world.items[2].proposal
    held = proposal_proposals_retrieve.sync_detailed(blocked.uuid, client=w.reviewer)
    assert held.parsed is not None and (held.parsed.name, held.parsed.description) == (
        "Blocked one",
        "",
    )


def test_a_review_is_read_by_its_reviewer_and_the_calls_manager(client_world: ClientWorld) -> None:
    w = client_world
    review_id = AssignmentItem.get_by_id(w.world.items[0].id).review_id
    item = w.manager.get_httpx_client().get(f"/api/assignment-items/{w.world.items[0].uuid}/")
    review_uuid = item.json()["review_uuid"]
    assert review_id is not None
    for client in (w.manager, w.reviewer):
        review = ok(
            proposal_reviews_retrieve.sync_detailed(review_uuid, client=client),
            200,
            ProposalReview,
        )
        assert (review.state, review.proposal_name) == (ProposalReviewStateEnum.IN_REVIEW, "Qubits")
        assert review.reviewer_uuid == w.world.reviewer_user.uuid
    assert (
        status_of(
            lambda: proposal_reviews_retrieve.sync_detailed(review_uuid, client=w.other_manager)
        )
        == 404
    )


def test_users_and_reviewer_profiles_show_private_details_only_to_themselves(
    client_world: ClientWorld,
) -> None:
    w = client_world
    mona = w.world.manager
    seen_by_rita = ok(users_retrieve.sync_detailed(mona.uuid, client=w.reviewer), 200, User)
    assert seen_by_rita.full_name == "Mona Manager"
    assert "email" not in w.reviewer.get_httpx_client().get(f"/api/users/{mona.uuid}/").json()
    herself = ok(users_retrieve.sync_detailed(mona.uuid, client=w.manager), 200, User)
    assert herself.email == mona.email
    assert status_of(lambda: users_retrieve.sync_detailed(mona.uuid, client=w.other_manager)) == 404
    profile = ok(
        reviewer_profiles_retrieve.sync_detailed(w.world.reviewer.uuid, client=w.manager),
        200,
        ReviewerProfile,
    )
    assert (profile.user_full_name, profile.user_email) == ("Rita Reviewer", "rita@example.org")
    assert profile.stats.total_reviews_completed == 0
    assert (
        status_of(
            lambda: reviewer_profiles_retrieve.sync_detailed(
                w.world.reviewer.uuid, client=w.other_manager
            )
        )
        == 404
    )
