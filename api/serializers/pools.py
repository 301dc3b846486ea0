"""A call's reviewer pool entries (the client's CallReviewerPool), the answers to a pool
invitation, and conflicts of interest (the client's ConflictOfInterest).

reviewq has no invitation links, rounds or conflicting users/organisations: `invitation_link`
and those conflict fields are null (the client allows it), round fields empty with the nil
uuid. `reviewer` links to the reviewer's profile (`/api/reviewer-profiles/{uuid}/`).
"""

from __future__ import annotations

from pydantic import BaseModel

from api.serializers.items import NIL_UUID
from api.serializers.links import (
    CALLS,
    CONFLICTS,
    POOL_ENTRIES,
    PROPOSALS,
    REVIEWER_PROFILES,
    USERS,
    Links,
)
from api.types import WireInstant
from store import Call, ConflictOfInterest, Proposal, Reviewer, User
from store.enums import CoiSeverity, CoiStatus, DetectionMethod, InvitationStatus
from tasks.errors import MSG_INVITATION_ACCEPTED, MSG_INVITATION_DECLINED
from tasks.pools.listing import PoolEntryView
from tasks.results import PoolAnswered

#: the `*_display` labels are Waldur's (the CHOICES of proposal/enums.py)
INVITATION_STATUS_LABELS = {
    InvitationStatus.PENDING: "Invitation pending",
    InvitationStatus.ACCEPTED: "Accepted",
    InvitationStatus.DECLINED: "Declined",
    InvitationStatus.EXPIRED: "Invitation expired",
}
COI_STATUS_LABELS = {
    CoiStatus.PENDING: "Pending review",
    CoiStatus.DISMISSED: "Dismissed - not a conflict",
    CoiStatus.WAIVED: "Waived with management plan",
    CoiStatus.RECUSED: "Reviewer recused",
}
SEVERITY_LABELS = {
    CoiSeverity.REAL: "Real conflict - must recuse",
    CoiSeverity.APPARENT: "Apparent conflict - requires management",
    CoiSeverity.POTENTIAL: "Potential conflict - disclosure only",
}
COI_TYPE_LABELS = {
    "INST_SAME": "Same institution",
    "FIN_DIRECT": "Direct financial interest",
    "REL_FAMILY": "Family relationship",
    "ROLE_NAMED": "Named on proposal",
    "COLLAB_ACTIVE": "Active collaboration",
    "REL_MENTOR": "Mentor/mentee relationship",
    "REL_SUPERVISOR": "Supervisor relationship",
    "COAUTH_RECENT": "Recent co-authorship",
    "INST_DEPT": "Same department",
    "INST_FORMER": "Former institution",
    "ROLE_CONF": "Conference organizer",
    "COLLAB_GRANT": "Grant collaboration",
    "REL_EDITORIAL": "Editorial relationship",
    "COMPET": "Competitor",
    "COAUTH_OLD": "Distant co-authorship",
    "INST_CONSORT": "Consortium membership",
    "CONF_ATTEND": "Conference participation",
    "SOC_MEMBER": "Professional society",
}


class PoolEntryOut(BaseModel):
    url: str
    uuid: str
    call: str
    call_uuid: str
    call_name: str
    reviewer: str | None
    reviewer_uuid: str | None
    reviewer_name: str | None
    reviewer_email: str | None
    has_profile: bool
    invited_email: str
    invited_user: str | None
    invited_user_name: str
    invited_at: WireInstant
    invitation_status: str
    invitation_status_display: str
    response_date: WireInstant | None
    decline_reason: str
    current_assignments: int
    invited_by_name: str
    invitation_link: str | None
    invitation_expires_at: WireInstant | None
    created: WireInstant
    coi_count: int
    coi_by_severity: dict[str, int]
    reviews_pending: int
    reviews_in_progress: int
    reviews_completed: int
    override_reason: str
    overridden_by_name: str
    overridden_at: WireInstant | None
    max_assignments: int


class InvitationAcceptedOut(BaseModel):
    detail: str
    declared_conflicts: list[str]


class InvitationDeclinedOut(BaseModel):
    detail: str


class ConflictOut(BaseModel):
    url: str
    uuid: str
    reviewer: str
    reviewer_uuid: str
    reviewer_name: str
    proposal: str | None
    proposal_uuid: str
    proposal_name: str
    round_uuid: str
    round_name: str
    call: str
    call_uuid: str
    call_name: str
    coi_type: str
    coi_type_display: str
    severity: str
    severity_display: str
    detection_method: str
    detected_at: WireInstant
    evidence_description: str
    evidence_data: dict[str, object]
    status: str
    status_display: str
    reviewed_by: str | None
    reviewed_by_name: str
    reviewed_at: WireInstant | None
    conflicting_user: str | None
    conflicting_user_name: str
    conflicting_organization: str | None
    conflicting_organization_name: str
    created: WireInstant
    review_notes: str
    management_plan: str


def _name(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else ""


def pool_entry_out(view: PoolEntryView, links: Links) -> PoolEntryOut:
    entry = view.entry
    reviewer: Reviewer = entry.reviewer
    call: Call = entry.call
    account: User | None = reviewer.user
    invited_by: User | None = entry.invited_by
    return PoolEntryOut(
        url=links.of(POOL_ENTRIES, entry.uuid),
        uuid=str(entry.uuid),
        call=links.of(CALLS, call.uuid),
        call_uuid=str(call.uuid),
        call_name=call.name,
        reviewer=links.of(REVIEWER_PROFILES, reviewer.uuid),
        reviewer_uuid=str(reviewer.uuid),
        reviewer_name=reviewer.name,
        reviewer_email=reviewer.email,
        has_profile=True,
        invited_email=reviewer.email,
        invited_user=links.optional(USERS, account.uuid if account else None),
        invited_user_name=_name(account),
        invited_at=entry.created,
        invitation_status=entry.invitation_status.value,
        invitation_status_display=INVITATION_STATUS_LABELS[entry.invitation_status],
        response_date=entry.response_date,
        decline_reason=entry.decline_reason,
        current_assignments=view.current_assignments,
        invited_by_name=_name(invited_by),
        invitation_link=None,
        invitation_expires_at=None,
        created=entry.created,
        coi_count=view.coi_count,
        coi_by_severity={s.value: view.coi_by_severity.get(s.value, 0) for s in CoiSeverity},
        reviews_pending=0,
        reviews_in_progress=view.reviews_in_progress,
        reviews_completed=view.reviews_completed,
        override_reason="",
        overridden_by_name="",
        overridden_at=None,
        max_assignments=entry.max_assignments,
    )


def invitation_accepted_out(result: PoolAnswered) -> InvitationAcceptedOut:
    return InvitationAcceptedOut(
        detail=MSG_INVITATION_ACCEPTED, declared_conflicts=result.declared_conflicts
    )


def invitation_declined_out(_result: PoolAnswered) -> InvitationDeclinedOut:
    return InvitationDeclinedOut(detail=MSG_INVITATION_DECLINED)


def conflict_out(coi: ConflictOfInterest, links: Links) -> ConflictOut:
    reviewer: Reviewer = coi.reviewer
    proposal: Proposal = coi.proposal
    call: Call = coi.call
    decider: User | None = coi.reviewed_by
    method = DetectionMethod(coi.detection_method)
    return ConflictOut(
        url=links.of(CONFLICTS, coi.uuid),
        uuid=str(coi.uuid),
        reviewer=links.of(REVIEWER_PROFILES, reviewer.uuid),
        reviewer_uuid=str(reviewer.uuid),
        reviewer_name=reviewer.name,
        proposal=links.of(PROPOSALS, proposal.uuid),
        proposal_uuid=str(proposal.uuid),
        proposal_name=proposal.name,
        round_uuid=NIL_UUID,
        round_name="",
        call=links.of(CALLS, call.uuid),
        call_uuid=str(call.uuid),
        call_name=call.name,
        coi_type=coi.coi_type,
        coi_type_display=COI_TYPE_LABELS.get(coi.coi_type, coi.coi_type),
        severity=coi.severity.value,
        severity_display=SEVERITY_LABELS[coi.severity],
        detection_method=method.value,
        detected_at=coi.created,
        evidence_description=coi.evidence,
        evidence_data={},
        status=coi.status.value,
        status_display=COI_STATUS_LABELS[coi.status],
        reviewed_by=links.optional(USERS, decider.uuid if decider else None),
        reviewed_by_name=_name(decider),
        reviewed_at=coi.reviewed_at,
        conflicting_user=None,
        conflicting_user_name="",
        conflicting_organization=None,
        conflicting_organization_name="",
        created=coi.created,
        review_notes=coi.review_notes,
        management_plan=coi.management_plan,
    )
