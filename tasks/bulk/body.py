"""The seeds/004 bulk-assign request body, validated with pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator

from store.clock import to_naive_utc
from store.enums import Priority
from tasks.errors import InvalidStrategy, ValidationFailed, pydantic_errors

Id = Annotated[str, Field(min_length=1, max_length=200)]
MAX_REVIEWS_PER_REQUEST = 10_000


def _no_duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate ids: {', '.join(sorted(set(dupes)))}")
    return values


class _Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    maxPerReviewer: PositiveInt | None = None  # noqa: N815 (the wire name)


class _PoolStrategy(_Strategy):
    pool: list[Id] = Field(min_length=1, max_length=5_000)

    _unique = field_validator("pool")(_no_duplicates)

    @property
    def reviewer_ids(self) -> list[str]:
        return self.pool


class SpecificStrategy(_Strategy):
    type: Literal["specific"]
    assignTo: list[Id] = Field(min_length=1, max_length=5_000)  # noqa: N815

    _unique = field_validator("assignTo")(_no_duplicates)

    @property
    def reviewer_ids(self) -> list[str]:
        return self.assignTo


class RoundRobinStrategy(_PoolStrategy):
    type: Literal["round_robin"]


class LoadBalancedStrategy(_PoolStrategy):
    type: Literal["load_balanced"]


class ExpertiseBasedStrategy(_PoolStrategy):
    type: Literal["expertise_based"]
    considerWorkload: bool = True  # noqa: N815


Strategy = SpecificStrategy | RoundRobinStrategy | LoadBalancedStrategy | ExpertiseBasedStrategy
STRATEGIES: dict[str, type[_Strategy]] = {
    "specific": SpecificStrategy,
    "round_robin": RoundRobinStrategy,
    "load_balanced": LoadBalancedStrategy,
    "expertise_based": ExpertiseBasedStrategy,
}


class AssignReviewsBody(BaseModel):
    """POST /v1/reviews/assign, field for field."""

    model_config = ConfigDict(extra="forbid")

    reviewIds: list[Id] = Field(min_length=1, max_length=MAX_REVIEWS_PER_REQUEST)  # noqa: N815
    assignmentStrategy: dict[str, Any]  # noqa: N815
    priority: Priority | None = None
    deadline: datetime | None = None
    notifyReviewers: bool = True  # noqa: N815

    _unique = field_validator("reviewIds")(_no_duplicates)

    @field_validator("deadline")
    @classmethod
    def _in_utc_range(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            try:
                to_naive_utc(value)
            except OverflowError:
                raise ValueError("out of range once converted to UTC") from None
        return value


def parse_assign_request(raw: Any) -> tuple[AssignReviewsBody, Strategy]:
    """Validate a request body; raise InvalidStrategy or ValidationFailed naming every field."""
    if not isinstance(raw, dict):
        raise ValidationFailed([{"field": "body", "message": "must be a JSON object"}])
    strategy_raw = raw.get("assignmentStrategy")
    strategy_type = strategy_raw.get("type") if isinstance(strategy_raw, dict) else None
    if (
        isinstance(strategy_raw, dict)
        and "type" in strategy_raw
        and strategy_type not in STRATEGIES
    ):
        raise InvalidStrategy()
    errors: list[dict[str, str]] = []
    body: AssignReviewsBody | None = None
    strategy: Strategy | None = None
    try:
        body = AssignReviewsBody.model_validate(raw)
    except ValidationError as exc:
        errors += pydantic_errors(exc)
    if isinstance(strategy_raw, dict) and strategy_type in STRATEGIES:
        try:
            strategy = STRATEGIES[strategy_type].model_validate(strategy_raw)  # type: ignore[assignment]
        except ValidationError as exc:
            errors += pydantic_errors(exc, prefix="assignmentStrategy")
    elif isinstance(strategy_raw, dict):
        errors.append({"field": "assignmentStrategy.type", "message": "Field required"})
    if errors or body is None or strategy is None:
        raise ValidationFailed(errors)
    return body, strategy
