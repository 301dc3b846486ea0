"""The errors a caller can cause: one hierarchy, each with a stable code and HTTP status.

The exact messages of domain.md live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ReviewqError(Exception):
    """A rejection the caller caused, in each API family's shape: `envelope()` is the seeds/004
    one (`/v1/`), `drf()` Django REST framework's (`/api/`); `body()` is the shape of the family
    the error belongs to (what the CLI prints and a queued request stores)."""

    code = "ERROR"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return self.envelope()

    def envelope(self) -> dict[str, Any]:
        """seeds/004: `{"error": {"code", "message", ...details}}`."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}

    def drf(self) -> dict[str, Any]:
        """Django REST framework's APIException: `{"detail": "<message>"}`."""
        return {"detail": self.message}


class ValidationFailed(ReviewqError):
    """Input that does not match the schema; `fields` names every offending field."""

    code = "VALIDATION_ERROR"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        fields = sorted({e["field"] for e in errors})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
        super().__init__(f"Invalid request: {summary}", fields=fields, errors=errors)
        self.errors = errors

    def drf(self) -> dict[str, Any]:
        """A serializer's errors: `{"<field>": ["<message>", ...]}`, keyed by the top-level
        field (DRF's `non_field_errors` for the body as a whole)."""
        out: dict[str, list[str]] = {}
        for error in self.errors:
            top, _, rest = error["field"].partition(".")
            key = NON_FIELD_ERRORS if top in ("", "body") else top
            message = f"{rest}: {error['message']}" if rest else error["message"]
            out.setdefault(key, []).append(message)
        return out


#: DRF's key for an error of the body as a whole
NON_FIELD_ERRORS = "non_field_errors"


class MalformedBody(ReviewqError):
    """A body that is not JSON: 400, DRF's ParseError words under /api/."""

    code = "INVALID_JSON"

    def __init__(self, reason: str) -> None:
        super().__init__(f"JSON parse error - {reason}")


class HttpError(ReviewqError):
    """A refusal of the HTTP layer itself (unknown path 404, 405, 413, 429): DRF's
    `{"detail"}` under /api/, the envelope with the status's code under /v1/."""

    CODES = {
        400: "BAD_REQUEST",
        401: "NOT_AUTHENTICATED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        406: "NOT_ACCEPTABLE",
        413: "PAYLOAD_TOO_LARGE",
        415: "UNSUPPORTED_MEDIA_TYPE",
        429: "TOO_MANY_REQUESTS",
        503: "SERVICE_UNAVAILABLE",
    }

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = self.CODES.get(status, "HTTP_ERROR")


class BodyTooLarge(HttpError):
    """A request body above REVIEWQ_MAX_BODY_BYTES: 413 before the rest of it is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: at most {limit} bytes are accepted.")
        self.details = {"maxBytes": limit}


class TooManyFailedLogins(HttpError):
    """Too many failed authentications from one client address: 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        # DRF's Throttled words
        message = f"Request was throttled. Expected available in {retry_after} seconds."
        super().__init__(429, message)
        self.retry_after = retry_after


class IdempotencyKeyMismatch(ReviewqError):
    """An Idempotency-Key already used for another body, by another user, or for another kind
    of request (IETF httpapi idempotency-key draft): 422, and nothing of the first changes."""

    code = "IDEMPOTENCY_KEY_MISMATCH"
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with another request body, "
            "by another user or for another kind of request."
        )

    def drf(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code}


class InvalidStrategy(ReviewqError):
    code = "INVALID_STRATEGY"

    def __init__(self) -> None:
        super().__init__("Unknown assignment strategy type")


class ReviewsNotFound(ReviewqError):
    code = "REVIEWS_NOT_FOUND"
    http_status = 404

    def __init__(self, invalid_ids: list[str]) -> None:
        super().__init__("Some review IDs were not found", invalidIds=invalid_ids)


class ReviewersNotFound(ReviewqError):
    code = "REVIEWERS_NOT_FOUND"
    http_status = 404

    def __init__(self, invalid_ids: list[str]) -> None:
        super().__init__("Some reviewer IDs were not found", invalidIds=invalid_ids)


class BrokerUnavailable(ReviewqError):
    """The request was recorded but its message could not reach the broker: 503, try again
    (with the same Idempotency-Key the retry sends the recorded request, not a new one)."""

    code = "BROKER_UNAVAILABLE"
    http_status = 503
    #: seconds a caller should wait before trying again (the Retry-After header)
    retry_after = 5

    def __init__(self) -> None:
        super().__init__("The task queue is unavailable; try again shortly.")

    def drf(self) -> dict[str, Any]:
        return {"detail": self.message}


class RequestFailedInternally(ReviewqError):
    """The request kept failing for reasons the caller did not cause (retries exhausted)."""

    code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self) -> None:
        super().__init__("The request could not be completed; it was retried and gave up.")


@dataclass(frozen=True)
class RecordError:
    """One thing wrong with a data file: where (array, index, field) and what."""

    array: str
    index: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.array + (f"[{self.index}]" if self.index is not None else "")
        where += f".{self.field}" if where and self.field else self.field
        return f"{where}: {self.message}" if where else self.message


class DataFileError(ReviewqError):
    """A data file that cannot be loaded; `errors` names every bad record."""

    code = "INVALID_DATA_FILE"

    def __init__(self, errors: list[RecordError]) -> None:
        self.errors = errors
        super().__init__(
            f"the data file has {len(errors)} error(s)", errors=[str(e) for e in errors]
        )


class UserError(ReviewqError):
    """A user that cannot be created as asked."""

    code = "USER_ERROR"


class DuplicateUsername(UserError):
    code = "DUPLICATE_USERNAME"

    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} already exists", username=username)


class UnknownCalls(UserError):
    code = "CALLS_NOT_FOUND"
    http_status = 404

    def __init__(self, invalid_ids: list[str]) -> None:
        super().__init__(f"unknown call(s): {', '.join(invalid_ids)}", invalidIds=invalid_ids)


def pydantic_errors(exc: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten a pydantic ValidationError into [{field, message}] with dotted field paths."""
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err.get("loc", ()))
        field = f"{prefix}.{path}" if prefix and path else (prefix or path or "body")
        out.append({"field": field, "message": str(err.get("msg", "invalid"))})
    return out


# --- the assignment-batch workflow (seeds/000): domain.md's exact messages ------------------

MSG_SEND_NOT_DRAFT = "Only draft batches can be sent."
MSG_CANCEL_NOT_ALLOWED = "Only draft or sent batches can be cancelled."
MSG_EXTEND_NOT_ALLOWED = "Can only extend deadline for sent or expired batches."
MSG_DEADLINE_IN_PAST = "New deadline must be in the future."
MSG_ACCEPT_NOT_PENDING = "Can only accept pending assignments."
MSG_DECLINE_NOT_PENDING = "Can only decline pending assignments."
MSG_ACCEPT_WITH_COI = (
    "Cannot accept assignment with unresolved COI. Please contact the call manager."
)
MSG_ACCEPT_EXPIRED = "Cannot accept expired assignment."
MSG_DECLINE_EXPIRED = "Cannot decline expired assignment."
MSG_REASSIGN_NOT_ALLOWED = "Only declined or expired items can be reassigned."
MSG_POOL_ENTRY_NOT_ELIGIBLE = "Pool entry not found or not eligible for assignments."
MSG_REVIEWER_HAS_PROPOSAL = "This reviewer already has this proposal assigned."
MSG_FORCE_UNBLOCK_NOT_BLOCKED = "Only COI-blocked items can be force-unblocked."
MSG_OVER_WORKLOAD_SUFFIX = "Set override_workload_limit to assign anyway."

MSG_SENT = "Assignment batch invitation sent successfully."
MSG_CANCELLED = "Assignment batch cancelled."
MSG_ACCEPTED = "Assignment accepted. Review created."
MSG_DECLINED = "Assignment declined."
MSG_REASSIGNED = "Assignment reassigned successfully."


class DrfShaped(ReviewqError):
    """An error born in the seeds/000 family: `body()` is its Django REST framework shape (what
    a subclass overrides) and `drf()` answers with it; `envelope()` stays seeds/004's."""

    def body(self) -> dict[str, Any]:
        return {"detail": self.message}

    def drf(self) -> dict[str, Any]:
        return self.body()


class RuleViolation(DrfShaped):
    """A state-machine refusal of domain.md: 400 `{"error": "<exact message>"}`."""

    code = "RULE_VIOLATION"

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


class FieldRejected(DrfShaped):
    """One field's value refused by a rule: 400 `{"<field>": ["<message>"]}` (DRF style)."""

    code = "FIELD_REJECTED"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field

    def body(self) -> dict[str, Any]:
        return {self.field: [self.message]}

    def envelope(self) -> dict[str, Any]:
        """seeds/004's VALIDATION_ERROR naming the field."""
        return ValidationFailed([{"field": self.field, "message": self.message}]).envelope()


class NotFound(DrfShaped):
    """The record does not exist, or the caller may not see it: 404."""

    code = "NOT_FOUND"
    http_status = 404

    def __init__(self, what: str = "record") -> None:
        super().__init__(f"No {what} found.")

    def body(self) -> dict[str, Any]:
        return {"detail": "Not found."}


class Forbidden(DrfShaped):
    """The caller sees the record but may not do this to it: 403, nothing changes."""

    code = "FORBIDDEN"
    http_status = 403

    def __init__(self, message: str = "You do not have permission to perform this action.") -> None:
        super().__init__(message)


# Beyond domain.md (W has no rule we know of): what a refused batch deletion says.
MSG_DELETE_NOT_ALLOWED = "Only draft or cancelled batches without accepted items can be deleted."

# Beyond domain.md (W's answer is not documented): what a successful force-unblock says.
MSG_FORCE_UNBLOCKED = "COI block overridden. The assignment is pending."

# Beyond domain.md: the other refusals and reasons the batch workflow gives, in DRF's words
# where the published client shows them.
# An item may be deleted only before its invitation is live and while it records no answer.
MSG_ITEM_DELETE_NOT_ALLOWED = (
    "Only pending or COI-blocked items of draft or cancelled batches can be deleted."
)
MSG_ONLY_DECLINED_EDITABLE = "Only declined assignments have a decline reason to edit."
#: a list's uuid filter that is not a uuid (django-filter's UUIDFilter words, as Waldur's)
MSG_INVALID_UUID = "Enter a valid UUID."
MSG_BLANK = "This field may not be blank."
#: a manual assignment's skip reason: the proposal is in the draft it adds to already
MSG_ALREADY_IN_BATCH = "Proposal is already in this batch."
#: send-all's skip reasons (besides MSG_SEND_NOT_DRAFT)
SKIP_NOT_FOUND = "Batch not found in this call."
SKIP_NO_PENDING_ITEMS = "Batch has no pending items."


def invalid_choice(value: str) -> str:
    """A list filter's refusal of an unknown status or source (DRF's ChoiceFilter words)."""
    return f"Select a valid choice. {value} is not one of the available choices."


def not_a_valid_choice(value: str) -> str:
    """A body field's refusal of an unknown choice (DRF's ChoiceField words)."""
    return f'"{value}" is not a valid choice.'


def unknown_ordering(key: str, allowed: str) -> str:
    return f"Unknown ordering {key!r}; use any of {allowed}."


def over_workload(current: int, new: int, max_assignments: int) -> str:
    """A manual assignment's refusal above max_assignments; ends in MSG_OVER_WORKLOAD_SUFFIX."""
    return (
        f"Reviewer has {current} open assignment(s) in this call; {new} more would exceed "
        f"max_assignments ({max_assignments}). {MSG_OVER_WORKLOAD_SUFFIX}"
    )


def not_assignable(state: str) -> str:
    """Why generate or manual assignment skips a proposal in `state`."""
    return f"proposal is {state}; only submitted or in_review proposals are assigned"


# seeds/004: why one review of a bulk assign fails (the entry's `error`)
def review_already_assigned(holder: str, state: str) -> str:
    return f"Review is already assigned to {holder} ({state})"


def review_not_assignable(state: str) -> str:
    return f"Review is {state} and cannot be assigned"


def proposal_not_reviewable(state: str) -> str:
    return f"Review's proposal is {state} and cannot be reviewed"


# Beyond domain.md: a call's reviewer pool (Waldur's invitation answers, in its words where the
# published client shows them)
MSG_INVITATION_ACCEPTED = "Invitation accepted."
MSG_INVITATION_DECLINED = "Invitation declined."
MSG_INVITATION_NOT_PENDING = "This invitation has already been answered or has expired."
MSG_RESEND_NOT_ALLOWED = "Only pending or expired invitations can be resent."
MSG_PROPOSAL_NOT_IN_CALL = "Proposal not found in this call."
MSG_UNKNOWN_REVIEWERS = "Reviewer profiles not found: {ids}."


class InvitationRefused(RuleViolation):
    """A pool invitation that cannot be answered: 400 `{"error": <kind>, "message": <text>}`
    (the client's InvitationAcceptError)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def body(self) -> dict[str, Any]:
        return {"error": self.kind, "message": self.message}


def action_decides(decision: str) -> str:
    """A conflict decision whose body names another status than its action (dismiss/ ...)."""
    return f'This action sets the status to "{decision}".'
