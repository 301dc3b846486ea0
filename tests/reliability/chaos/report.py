"""What a chaos run found: the faults it injected, the counts (evidence.py), and the table
`bench/chaos.py` and the CI runs print."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.chaos.evidence import Fault, Tally


@dataclass
class Report:
    faults: list[Fault]
    tally: Tally
    seconds: float
    waves: int
    producer_errors: dict[str, int]
    accepted_after_redis_restart: int
    kills_with_messages_in_flight: int
    recovered_in_s: float | None
    root: Path
    skipped: list[str] = field(default_factory=list)

    def injected(self) -> Counter[str]:
        return Counter(f.kind for f in self.faults)

    def problems(self) -> dict[str, int]:
        found = self.tally.problems()
        if self.recovered_in_s is None:
            found["not_recovered"] = 1
        return found

    def table(self) -> str:
        t = self.tally
        lines = [f"chaos run: {self.seconds:.0f} s, {self.waves} waves, {t.requests} requests"]
        lines += [f"  {'fault injected':40} {'count':>6}"]
        lines += [f"  {kind:40} {n:>6}" for kind, n in sorted(self.injected().items())]
        in_flight = self.kills_with_messages_in_flight
        lines += [f"  {'(worker kills with messages in flight)':40} {in_flight:>6}"]
        rows = [
            ("lost requests", t.lost),
            ("failed requests", t.failed),
            ("reviews assigned twice", t.duplicated),
            ("reviewers over capacity", t.over_capacity),
            ("mail missing", t.mail_missing),
            ("mail duplicated", t.mail_duplicated),
            ("mail late (> 60 s after recovery)", t.mail_late),
            ("outbox rows left pending/sending", t.outbox_left),
            ("overdue batches not expired", t.expiry_lost),
        ]
        lines += [f"  {'outcome':40} {'count':>6}"]
        lines += [f"  {name:40} {value:>6}" for name, value in rows]
        lines += [
            f"  evidence: {t.reviews_assigned} reviews assigned, {t.reviewers_at_cap} reviewers"
            f" at cap, {t.capacity_refusals} refusals for capacity, {t.mail_delivered} mail keys"
            f" delivered of {t.mail_expected} expected (+{t.mail_duplicated_in_window} in the"
            f" documented window), worst mail lateness {t.mail_worst_lateness_s} s,"
            f" {t.batches_expired} batches expired",
            f"  producer: errors retried {dict(self.producer_errors)},"
            f" {self.accepted_after_redis_restart} accepted after a Redis restart",
            f"  recovered in {self.recovered_in_s} s after the last fault; logs in {self.root}",
        ]
        if self.skipped:
            lines.append(f"  skipped: {', '.join(self.skipped)}")
        return "\n".join(lines)
