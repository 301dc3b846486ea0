"""A grant: an actor that is not a user, allowed exactly one thing by a signed link."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchGrant:
    """What a response link grants (tasks/links.py): answering the batch `batch_id` as its
    reviewer `reviewer_id`, and nothing else (tasks/access.py)."""

    batch_id: int
    reviewer_id: int
