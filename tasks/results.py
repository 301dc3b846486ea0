"""What a use case of the batch workflow returns: the HTTP body, and the mail to deliver.

The use case writes its outbox rows inside its transaction and returns their ids; the caller
(HTTP view, CLI, actor) calls `deliver` only after that transaction has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.mail.outbox import enqueue_deliveries


@dataclass(frozen=True)
class ActionResult:
    """The JSON body the API answers with, and the outbox ids to deliver after the commit."""

    body: dict[str, Any]
    notification_ids: list[int] = field(default_factory=list)


def deliver(result: ActionResult) -> None:
    """Enqueue the deliveries of `result`; raises if called inside an open transaction."""
    enqueue_deliveries(result.notification_ids)
