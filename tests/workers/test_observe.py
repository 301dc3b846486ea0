"""ObservedMessages keeps its labelled metric children: the counts must stay exact."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

from workers.middleware.observe import ObservedMessages


def _message(actor: str, i: int) -> MessageProxy:
    return MessageProxy(
        dramatiq.Message(
            queue_name="q", actor_name=actor, args=(), kwargs={}, options={}, message_id=f"{i}"
        )
    )


def _value(metric: Any) -> float:
    return float(metric._value.get())


def test_counts_durations_and_in_progress_stay_exact_per_actor_and_outcome() -> None:
    observed = ObservedMessages()
    runs = [("a", None)] * 5 + [("b", None)] * 3 + [("a", ValueError("x"))] * 2
    for i, (actor, error) in enumerate(runs):
        message = _message(actor, i)
        observed.before_process_message(None, message)  # type: ignore[arg-type]
        assert _value(observed.in_progress.labels(actor)) == 1
        observed.after_process_message(None, message, exception=error)  # type: ignore[arg-type]
    skipped = _message("b", 99)
    observed.before_process_message(None, skipped)  # type: ignore[arg-type]
    observed.after_skip_message(None, skipped)  # type: ignore[arg-type]
    counts = {
        (actor, outcome): _value(observed.messages.labels(actor, outcome))
        for actor in "ab"
        for outcome in ("succeeded", "retried", "skipped")
    }
    assert counts == {
        ("a", "succeeded"): 5, ("a", "retried"): 2, ("a", "skipped"): 0,
        ("b", "succeeded"): 3, ("b", "retried"): 0, ("b", "skipped"): 1,
    }  # fmt: skip
    assert _value(observed.in_progress.labels("a")) == 0
    assert _value(observed.in_progress.labels("b")) == 0
    samples = {
        (s.name, s.labels.get("actor")): s.value
        for metric in observed.duration.collect()
        for s in metric.samples
    }
    assert samples["reviewq_message_duration_seconds_count", "a"] == 7
    assert samples["reviewq_message_duration_seconds_count", "b"] == 3
