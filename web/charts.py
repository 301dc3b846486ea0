"""The pictures of the call's page, computed on the server and drawn as inline SVG by the
templates (`charts.html.j2`): a coverage bar and a load histogram. Pure geometry, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.overview import Coverage, Load

BAR_WIDTH = 600
BAR_HEIGHT = 28
HIST_WIDTH = 600
HIST_HEIGHT = 170
HIST_MARGIN = 28


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    x: float
    width: float
    css: str


@dataclass(frozen=True)
class CoverageBar:
    """The call's reviewer slots (proposals x reviewers_per_proposal) split into accepted,
    pending and missing; more accepted or pending than needed counts as filled."""

    segments: list[Segment]
    total: int
    width: int = BAR_WIDTH
    height: int = BAR_HEIGHT


def coverage_bar(coverage: Sequence[Coverage]) -> CoverageBar:
    accepted = sum(min(c.accepted, c.needed) for c in coverage)
    pending = sum(min(c.pending, max(c.needed - c.accepted, 0)) for c in coverage)
    total = sum(c.needed for c in coverage)
    missing = max(total - accepted - pending, 0)
    segments, x = [], 0.0
    for label, count, css in (
        ("accepted", accepted, "ok"),
        ("pending", pending, "wait"),
        ("missing", missing, "gap"),
    ):
        width = BAR_WIDTH * count / total if total else 0.0
        segments.append(Segment(label, count, round(x, 2), round(width, 2), css))
        x += width
    return CoverageBar(segments, total)


@dataclass(frozen=True)
class Column:
    load: int
    reviewers: int
    x: float
    y: float
    width: float
    height: float
    over: bool


@dataclass(frozen=True)
class LoadHistogram:
    """How many reviewers carry each load (0 .. the highest load or capacity); columns past
    the smallest capacity of the pool are marked, since some reviewers are full there."""

    columns: list[Column]
    peak: int
    width: int = HIST_WIDTH
    height: int = HIST_HEIGHT
    margin: int = HIST_MARGIN


def load_histogram(loads: Sequence[Load]) -> LoadHistogram:
    counts = Counter(item.load for item in loads)
    top = max([*(item.load for item in loads), *(item.capacity for item in loads), 1])
    smallest_capacity = min((item.capacity for item in loads), default=top)
    peak = max(counts.values(), default=0)
    slots = top + 1
    inner_w = HIST_WIDTH - 2 * HIST_MARGIN
    inner_h = HIST_HEIGHT - 2 * HIST_MARGIN
    step = inner_w / slots
    columns = []
    for load in range(slots):
        n = counts.get(load, 0)
        h = inner_h * n / peak if peak else 0.0
        columns.append(
            Column(
                load=load,
                reviewers=n,
                x=round(HIST_MARGIN + load * step + step * 0.1, 2),
                y=round(HIST_MARGIN + inner_h - h, 2),
                width=round(step * 0.8, 2),
                height=round(h, 2),
                over=load >= smallest_capacity,
            )
        )
    return LoadHistogram(columns, peak)
