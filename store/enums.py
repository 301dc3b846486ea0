"""Every status and choice of domain.md, one `str` Enum each."""

from __future__ import annotations

from enum import Enum


class CallState(str, Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class ProposalState(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELED = "canceled"


ASSIGNABLE_PROPOSAL_STATES = (ProposalState.SUBMITTED, ProposalState.IN_REVIEW)


class Proficiency(str, Enum):
    EXPERT = "expert"
    FAMILIAR = "familiar"
    BASIC = "basic"


class InvitationStatus(str, Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class CoiSeverity(str, Enum):
    REAL = "real"
    APPARENT = "apparent"
    POTENTIAL = "potential"


class CoiStatus(str, Enum):
    PENDING = "pending"
    DISMISSED = "dismissed"
    WAIVED = "waived"
    RECUSED = "recused"


BLOCKING_COI_STATUSES = (CoiStatus.PENDING, CoiStatus.RECUSED)


class AffinitySource(str, Enum):
    COMPUTED = "computed"
    IMPORTED = "imported"


class BatchStatus(str, Enum):
    DRAFT = "draft"
    SENT = "sent"
    RESPONDED = "responded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class BatchSource(str, Enum):
    ALGORITHM = "algorithm"
    MANUAL = "manual"


class ItemStatus(str, Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    REASSIGNED = "reassigned"
    COI_BLOCKED = "coi_blocked"


class ReviewState(str, Enum):
    UNASSIGNED = "unassigned"
    IN_REVIEW = "in_review"
    SUBMITTED = "submitted"
    REJECTED = "rejected"


class Priority(str, Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Algorithm(str, Enum):
    GREEDY = "greedy"
    OPTIMAL = "optimal"
    FAIR = "fair"


class Disclosure(str, Enum):
    TITLES_ONLY = "titles_only"
    TITLES_AND_SUMMARIES = "titles_and_summaries"
    FULL_DETAILS = "full_details"


class RequestKind(str, Enum):
    ASSIGN_REVIEWS = "assign_reviews"
    GENERATE_ASSIGNMENTS = "generate_assignments"


class RequestStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_REQUEST_STATUSES = (RequestStatus.SUCCEEDED, RequestStatus.FAILED)


class NotificationKind(str, Enum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    EXPIRED_NOTICE = "expired_notice"
    REVIEW_ASSIGNED = "review_assigned"
    REVIEW_DEADLINE = "review_deadline"


class NotificationStatus(str, Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
