"""Every status and choice of domain.md, one `str` Enum each."""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class ProposalState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELED = "canceled"


ASSIGNABLE_PROPOSAL_STATES = (ProposalState.SUBMITTED, ProposalState.IN_REVIEW)


class Proficiency(StrEnum):
    EXPERT = "expert"
    FAMILIAR = "familiar"
    BASIC = "basic"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class CoiSeverity(StrEnum):
    REAL = "real"
    APPARENT = "apparent"
    POTENTIAL = "potential"


class CoiStatus(StrEnum):
    PENDING = "pending"
    DISMISSED = "dismissed"
    WAIVED = "waived"
    RECUSED = "recused"


class DetectionMethod(StrEnum):
    """How a conflict of interest came to be known (Waldur's detection_method)."""

    AUTOMATED = "automated"
    MANAGER_IDENTIFIED = "manager_identified"
    REPORTED = "reported"
    SELF_DISCLOSED = "self_disclosed"


BLOCKING_COI_STATUSES = (CoiStatus.PENDING, CoiStatus.RECUSED)


class AffinitySource(StrEnum):
    COMPUTED = "computed"
    IMPORTED = "imported"


class BatchStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RESPONDED = "responded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class BatchSource(StrEnum):
    ALGORITHM = "algorithm"
    MANUAL = "manual"


class ItemStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"
    COI_BLOCKED = "coi_blocked"


class ReviewState(StrEnum):
    UNASSIGNED = "unassigned"
    IN_REVIEW = "in_review"
    SUBMITTED = "submitted"
    REJECTED = "rejected"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Algorithm(StrEnum):
    GREEDY = "greedy"
    OPTIMAL = "optimal"
    FAIR = "fair"


class Disclosure(StrEnum):
    TITLES_ONLY = "titles_only"
    TITLES_AND_SUMMARIES = "titles_and_summaries"
    FULL_DETAILS = "full_details"


class RequestKind(StrEnum):
    ASSIGN_REVIEWS = "assign_reviews"
    GENERATE_ASSIGNMENTS = "generate_assignments"


class RequestStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_REQUEST_STATUSES = (RequestStatus.SUCCEEDED, RequestStatus.FAILED)


class NotificationKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    EXPIRED_NOTICE = "expired_notice"
    DECLINE_NOTICE = "decline_notice"
    REVIEW_ASSIGNED = "review_assigned"
    REVIEW_DEADLINE = "review_deadline"
    POOL_INVITATION = "pool_invitation"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
