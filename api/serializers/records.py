"""The records behind the hyperlinks of batches and items, in the shapes of the published
client's models: ProtectedCall, Proposal, ProposalReview, User, ReviewerProfile.

reviewq has no rounds, applicants, projects or organisations: the fields the client requires
for them are answered empty ("" / [] / null), and the uuids it parses with UUID(...) are the
nil uuid. A proposal shows a reviewer what its call discloses (tasks/calls/listing.py).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid5

from pydantic import BaseModel, ConfigDict

from api.serializers.items import NIL_UUID
from api.serializers.links import CALLS, PROPOSALS, REVIEWER_PROFILES, REVIEWS, USERS, Links
from api.types import WireInstant
from store import Call, Proposal, User
from store.clock import isoformat_z
from tasks.calls.listing import ProposalView
from tasks.reviews import ReviewerView, ReviewView


class _Open(BaseModel):
    """A model whose fields are declared in the order answered, and no others."""

    model_config = ConfigDict(extra="forbid")


class CallOut(_Open):
    """A call (the client's ProtectedCall: every field optional there)."""

    url: str
    uuid: str
    created: WireInstant
    slug: str
    reference_code: str
    name: str
    description: str
    state: str
    offerings: list[Any]
    rounds: list[Any]
    documents: list[Any]
    resource_templates: list[Any]


class ProposalOut(_Open):
    """A proposal (the client's Proposal)."""

    uuid: str
    url: str
    slug: str
    name: str
    description: str
    project_summary: str
    project_name: str
    supporting_documentation: list[Any]
    state: str
    approved_by: str | None
    created_by: str | None
    created_by_name: str
    created_by_uuid: str
    applicant_username: str
    applicant_full_name: str
    applicant_first_name: str
    applicant_last_name: str
    applicant_email: str
    applicant_registration_method: str
    applicant_phone_number: str
    applicant_organization: str
    applicant_organization_country: str
    applicant_organization_type: str
    applicant_organization_registry_code: str
    applicant_organization_vat_code: str
    applicant_organization_address: str | None
    applicant_job_title: str
    applicant_affiliations: list[str]
    applicant_gender: str | None
    applicant_personal_title: str
    applicant_place_of_birth: str
    applicant_address: str
    applicant_country_of_residence: str
    applicant_nationality: str
    applicant_nationalities: list[str]
    applicant_eduperson_assurance: list[str]
    applicant_identity_source: str
    applicant_civil_number: str | None
    applicant_birth_date: str | None
    applicant_active_isds: list[str]
    project: str | None
    round: dict[str, Any]
    call_uuid: str
    call_name: str
    call_managing_organisation_uuid: str
    oecd_fos_2007_label: str
    science_sub_domain_name: str
    science_domain_uuid: str
    science_domain_name: str
    allocation_comment: str | None
    created: WireInstant
    compliance_status: dict[str, Any] | None
    can_submit: dict[str, Any]
    awaiting_manual_advance: bool
    decision_held: bool | None
    workflow_step: str | None
    # reviewq's own: what the call discloses of the proposal besides its title
    keywords: list[str]
    organization: str


class ReviewOut(_Open):
    """A review (the client's ProposalReview)."""

    url: str
    uuid: str
    proposal: str
    proposal_name: str
    proposal_uuid: str
    proposal_slug: str
    reviewer: str | None
    reviewer_full_name: str
    reviewer_uuid: str | None
    reviewer_image: str
    state: str
    review_end_date: WireInstant | None
    round_uuid: str
    round_name: str
    round_slug: str
    round_cutoff_time: WireInstant
    round_start_time: WireInstant
    call_name: str
    call_uuid: str
    call_slug: str
    call_managing_organisation_uuid: str
    coi_confirmed: bool
    coi_confirmed_at: WireInstant | None
    coi_confirmation_required: bool
    created: WireInstant
    modified: WireInstant
    # reviewq's own (seeds/004)
    priority: str


class UserOut(_Open):
    """A user (the client's User: every field optional there); the e-mail and staff flag only
    for the user themself and staff."""

    url: str
    uuid: str
    username: str
    full_name: str
    email: str | None = None
    is_staff: bool | None = None


def call_out(call: Call, links: Links) -> CallOut:
    return CallOut(
        url=links.of(CALLS, call.uuid),
        uuid=str(call.uuid),
        created=call.created,
        slug=call.external_id or "",
        reference_code=call.external_id or "",
        name=call.name,
        description=call.description,
        state=call.state.value,
        offerings=[],
        rounds=[],
        documents=[],
        resource_templates=[],
    )


def proposal_out(view: ProposalView, links: Links) -> ProposalOut:
    proposal: Proposal = view.proposal
    empty = dict.fromkeys(_EMPTY_TEXT, "")
    return ProposalOut(
        uuid=str(proposal.uuid),
        url=links.of(PROPOSALS, proposal.uuid),
        slug=proposal.slug,
        name=proposal.name,
        description=view.summary,
        project_summary=view.summary,
        supporting_documentation=[],
        state=proposal.state.value,
        approved_by=None,
        created_by=None,
        created_by_uuid=NIL_UUID,
        applicant_organization=view.organization,
        applicant_organization_address=None,
        applicant_affiliations=[],
        applicant_gender=None,
        applicant_nationalities=[],
        applicant_eduperson_assurance=[],
        applicant_civil_number=None,
        applicant_birth_date=None,
        applicant_active_isds=[],
        project=None,
        round={},
        call_uuid=str(view.call.uuid),
        call_name=view.call.name,
        call_managing_organisation_uuid=NIL_UUID,
        science_domain_uuid=NIL_UUID,
        allocation_comment=None,
        created=proposal.created,
        compliance_status=None,
        can_submit={"can_submit": False, "error": "Proposals are submitted outside reviewq."},
        awaiting_manual_advance=False,
        decision_held=None,
        workflow_step=None,
        keywords=view.keywords,
        organization=view.organization,
        **{k: v for k, v in empty.items() if k != "applicant_organization"},
    )


_EMPTY_TEXT = (
    "project_name",
    "created_by_name",
    "applicant_username",
    "applicant_full_name",
    "applicant_first_name",
    "applicant_last_name",
    "applicant_email",
    "applicant_registration_method",
    "applicant_phone_number",
    "applicant_organization",
    "applicant_organization_country",
    "applicant_organization_type",
    "applicant_organization_registry_code",
    "applicant_organization_vat_code",
    "applicant_job_title",
    "applicant_personal_title",
    "applicant_place_of_birth",
    "applicant_address",
    "applicant_country_of_residence",
    "applicant_nationality",
    "applicant_identity_source",
    "oecd_fos_2007_label",
    "science_sub_domain_name",
    "science_domain_name",
)


def review_out(view: ReviewView, links: Links) -> ReviewOut:
    """The round fields have no round to describe: its times are the review's creation."""
    review, proposal, call = view.review, view.proposal, view.call
    user = view.reviewer_user
    return ReviewOut(
        url=links.of(REVIEWS, review.uuid),
        uuid=str(review.uuid),
        proposal=links.of(PROPOSALS, proposal.uuid),
        proposal_name=proposal.name,
        proposal_uuid=str(proposal.uuid),
        proposal_slug=proposal.slug,
        reviewer=links.optional(USERS, user.uuid if user else None),
        reviewer_full_name=view.reviewer.name if view.reviewer else "",
        reviewer_uuid=str(user.uuid) if user else None,
        reviewer_image="",
        state=review.state.value,
        review_end_date=review.deadline,
        round_uuid=NIL_UUID,
        round_name="",
        round_slug="",
        round_cutoff_time=review.deadline or review.created,
        round_start_time=review.created,
        call_name=call.name,
        call_uuid=str(call.uuid),
        call_slug=call.external_id or "",
        call_managing_organisation_uuid=NIL_UUID,
        coi_confirmed=False,
        coi_confirmed_at=None,
        coi_confirmation_required=False,
        created=review.created,
        modified=review.modified,
        priority=review.priority.value,
    )


def user_out(user: User, private: bool, links: Links) -> UserOut:
    out = UserOut(
        url=links.of(USERS, user.uuid),
        uuid=str(user.uuid),
        username=user.username,
        full_name=user.full_name,
    )
    if private:
        out.email = user.email
        out.is_staff = bool(user.is_staff)
    return out


class ReviewerProfileOut(_Open):
    """A reviewer profile (the client's ReviewerProfile): its expertise, availability and
    record of answers; no ORCID, affiliations or publications in reviewq."""

    url: str
    uuid: str
    user: str
    user_uuid: str
    user_full_name: str
    user_email: str
    orcid_connected: bool
    orcid_last_sync: WireInstant | None
    affiliations: list[Any]
    expertise_set: list[dict[str, Any]]
    publications: list[Any]
    stats: dict[str, Any]
    profile_completeness: dict[str, Any]
    is_published: bool
    published_at: WireInstant | None
    created: WireInstant
    modified: WireInstant
    biography: str
    available_for_reviews: bool
    organization: str


def reviewer_profile_out(view: ReviewerView, links: Links) -> ReviewerProfileOut:
    reviewer, user = view.reviewer, view.user
    created = isoformat_z(reviewer.created)
    expertise = [
        {
            # a stable id per (reviewer, keyword): reviewq keeps expertise on the profile
            "uuid": str(uuid5(reviewer.uuid, str(entry.get("keyword", "")))),
            "expertise_keyword": str(entry.get("keyword", "")),
            "expertise_category_name": "",
            "created": created,
            "proficiency_level": str(entry.get("proficiency", "")) or None,
        }
        for entry in (reviewer.expertise or [])
        if isinstance(entry, dict)
    ]
    return ReviewerProfileOut(
        url=links.of(REVIEWER_PROFILES, reviewer.uuid),
        uuid=str(reviewer.uuid),
        user=links.of(USERS, user.uuid) if user else "",
        user_uuid=str(user.uuid) if user else NIL_UUID,
        user_full_name=reviewer.name,
        user_email=reviewer.email,
        orcid_connected=False,
        orcid_last_sync=None,
        affiliations=[],
        expertise_set=[{k: v for k, v in e.items() if v is not None} for e in expertise],
        publications=[],
        stats={
            "uuid": str(reviewer.uuid),
            "total_reviews_completed": view.reviews_completed,
            "total_reviews_declined": view.items_declined,
            "total_reviews_timeout": view.items_expired,
            "average_review_time_days": None,
            "average_score_given": None,
            "last_review_date": None,
            "quality_rating": None,
            "quality_rating_count": 0,
        },
        profile_completeness={},
        is_published=True,
        published_at=None,
        created=reviewer.created,
        modified=reviewer.modified,
        biography=reviewer.biography,
        available_for_reviews=bool(reviewer.available_for_reviews),
        organization=reviewer.organization,
    )
