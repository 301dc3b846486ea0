"""Persistence: peewee models of every entity of domain.md, the database, migrations, workload."""

from store.base import BaseModel, ExternalModel
from store.batches import AssignmentBatch, AssignmentItem, ItemConflict
from store.calls import Affinity, Call, CallManager, ConflictOfInterest, Proposal, ReviewerPoolEntry
from store.db import connect_database, database, is_sqlite, write_transaction
from store.migrations import migrate
from store.outbox import Notification, OutboundMessage
from store.people import Reviewer, User
from store.requests import AssignmentRequest
from store.reviews import Review, RoundRobinCursor

__all__ = [
    "Affinity",
    "AssignmentBatch",
    "AssignmentItem",
    "AssignmentRequest",
    "BaseModel",
    "Call",
    "CallManager",
    "ConflictOfInterest",
    "ExternalModel",
    "ItemConflict",
    "Notification",
    "OutboundMessage",
    "Proposal",
    "Review",
    "Reviewer",
    "ReviewerPoolEntry",
    "RoundRobinCursor",
    "User",
    "connect_database",
    "database",
    "is_sqlite",
    "migrate",
    "write_transaction",
]
