"""The status groups of domain.md's state machines, and the limits of the use cases.

Every "which statuses may do X" lives here, once; the use cases and the queries import it.
"""

from __future__ import annotations

from store.enums import (
    BatchStatus,
    CoiStatus,
    Disclosure,
    InvitationStatus,
    ItemStatus,
    ReviewState,
)

#: batches a manager may cancel
CANCELLABLE_BATCHES = (BatchStatus.DRAFT, BatchStatus.SENT)
#: batches whose deadline may be extended (an expired one is reactivated)
EXTENDABLE_BATCHES = (BatchStatus.SENT, BatchStatus.EXPIRED)
#: batches that may be deleted (when none of their items is accepted), or lose an item
DELETABLE_BATCHES = (BatchStatus.DRAFT, BatchStatus.CANCELLED)
#: batches that still hold an invitation to a proposal (a draft, or sent and unanswered)
OPEN_BATCHES = (BatchStatus.DRAFT, BatchStatus.SENT)
#: the batches a reviewer sees of their own
REVIEWER_VISIBLE_BATCHES = (BatchStatus.SENT, BatchStatus.RESPONDED, BatchStatus.EXPIRED)

#: items that may be deleted from a deletable batch
DELETABLE_ITEMS = (ItemStatus.PENDING, ItemStatus.COI_BLOCKED)
#: items a manager may reassign to another reviewer
REASSIGNABLE_ITEMS = (ItemStatus.DECLINED, ItemStatus.EXPIRED)
#: items an upheld conflict (recusal) takes away from their reviewer
RECUSABLE_ITEMS = (ItemStatus.PENDING, ItemStatus.ACCEPTED)
#: items through which a reviewer holds a proposal (invited and not declined, or accepted)
HOLDING_ITEMS = (ItemStatus.PENDING, ItemStatus.ACCEPTED)

#: reviews through which a reviewer holds a proposal
HOLDING_REVIEW_STATES = (ReviewState.IN_REVIEW, ReviewState.SUBMITTED)

#: what a manager may decide about a conflict of interest
COI_DECISIONS = (CoiStatus.DISMISSED, CoiStatus.WAIVED, CoiStatus.RECUSED)

#: the disclosure levels at which an invitation shows the proposal's summary
SUMMARY_LEVELS = (Disclosure.TITLES_AND_SUMMARIES, Disclosure.FULL_DETAILS)

#: the largest `reviewers_per_proposal` generate-assignments takes (Waldur's serializer max)
MAX_REVIEWERS_PER_PROPOSAL = 20

#: pool invitations a manager may send again (an expired one becomes pending)
RESENDABLE_INVITATIONS = (InvitationStatus.PENDING, InvitationStatus.EXPIRED)

#: the conflict-of-interest types (Waldur's CoiTypeEnum codes)
COI_TYPES = (
    "COAUTH_OLD",
    "COAUTH_RECENT",
    "COLLAB_ACTIVE",
    "COLLAB_GRANT",
    "COMPET",
    "CONF_ATTEND",
    "FIN_DIRECT",
    "INST_CONSORT",
    "INST_DEPT",
    "INST_FORMER",
    "INST_SAME",
    "REL_EDITORIAL",
    "REL_FAMILY",
    "REL_MENTOR",
    "REL_SUPERVISOR",
    "ROLE_CONF",
    "ROLE_NAMED",
    "SOC_MEMBER",
)
