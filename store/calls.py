"""A call for proposals: configuration, proposals, reviewer pool, conflicts, affinities."""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from store.base import BaseModel, ExternalModel
from store.enums import (
    AffinitySource,
    Algorithm,
    CallState,
    CoiSeverity,
    CoiStatus,
    DetectionMethod,
    Disclosure,
    InvitationStatus,
    ProposalState,
)
from store.fields import EnumField, JSONField
from store.people import Reviewer, User


class Call(ExternalModel):
    name = CharField(max_length=300)
    description = TextField(default="")
    state = EnumField(CallState, default=CallState.ACTIVE)
    reviewers_per_proposal = IntegerField(default=3)
    assignment_expiration_days = IntegerField(default=7)
    send_reminder_before_expiry_days = IntegerField(default=2)
    auto_reassign_on_decline = BooleanField(default=False)
    max_auto_reassign_attempts = IntegerField(default=3)
    algorithm = EnumField(Algorithm, default=Algorithm.OPTIMAL)
    min_affinity_threshold = DoubleField(default=0.0)
    proposal_disclosure = EnumField(Disclosure, max_length=32, default=Disclosure.TITLES_ONLY)
    #: per-proposal attribute constraints of generate (matching/attributes.py, parse_constraints):
    #: [{"kind": "at_least", "attribute": "senior", "value": "yes", "count": 1},
    #:  {"kind": "at_most", "attribute": "organization", "count": 1}]
    attribute_constraints = JSONField(default=list)


class CallManager(BaseModel):
    call = ForeignKeyField(Call, backref="manager_links", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="managed_call_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("call", "user"), True),)


class Proposal(ExternalModel):
    call = ForeignKeyField(Call, backref="proposals", on_delete="CASCADE")
    name = CharField(max_length=500)
    slug = CharField(max_length=200, default="")
    summary = TextField(default="")
    keywords = JSONField(default=list)
    organization = CharField(max_length=300, default="")
    state = EnumField(ProposalState, default=ProposalState.SUBMITTED, index=True)


class ReviewerPoolEntry(BaseModel):
    call = ForeignKeyField(Call, backref="pool", on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, backref="pool_entries", on_delete="CASCADE")
    max_assignments = IntegerField(default=5)
    invitation_status = EnumField(InvitationStatus, default=InvitationStatus.PENDING)
    # the reviewer's answer to the invitation, and who invited them (migration 5)
    response_date = DateTimeField(null=True)
    decline_reason = TextField(default="")
    invited_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("call", "reviewer"), True),)


class ConflictOfInterest(BaseModel):
    call = ForeignKeyField(Call, backref="conflicts", on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, backref="conflicts", on_delete="CASCADE")
    proposal = ForeignKeyField(Proposal, backref="conflicts", on_delete="CASCADE")
    coi_type = CharField(max_length=64, default="")
    severity = EnumField(CoiSeverity, default=CoiSeverity.REAL)
    status = EnumField(CoiStatus, default=CoiStatus.PENDING)
    evidence = TextField(default="")
    # how it was found; a manager's decision: who, when, their notes and (waived) the
    # management plan (migration 5)
    detection_method = EnumField(DetectionMethod, default=DetectionMethod.AUTOMATED)
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reviewed_at = DateTimeField(null=True)
    review_notes = TextField(default="")
    management_plan = TextField(default="")

    class Meta:
        indexes = (
            (("reviewer", "proposal"), False),
            (("call", "reviewer", "proposal", "coi_type"), True),
        )


class Affinity(BaseModel):
    call = ForeignKeyField(Call, backref="affinities", on_delete="CASCADE")
    reviewer = ForeignKeyField(Reviewer, backref="affinities", on_delete="CASCADE")
    proposal = ForeignKeyField(Proposal, backref="affinities", on_delete="CASCADE")
    score = DoubleField()
    source = EnumField(AffinitySource, default=AffinitySource.IMPORTED)

    class Meta:
        indexes = ((("proposal", "reviewer"), True), (("call", "reviewer"), False))
