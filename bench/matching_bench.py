"""Benchmark of the matching engine: MIDL and seeded synthetic calls, greedy / optimal / fair.

    .venv/bin/python bench/matching_bench.py                      # every size
    .venv/bin/python bench/matching_bench.py --sizes midl,1k      # a quick run
    .venv/bin/python bench/matching_bench.py --save figures.json
    .venv/bin/python bench/matching_bench.py --baseline bench/matching_baseline.json
    .venv/bin/python bench/matching_bench.py --sizes 10k --lp-max-pairs 2000000  # + HiGHS LP
    .venv/bin/python bench/matching_bench.py --sizes targets    # issue #15: met / NOT met

Each solve runs in a forked child process so that its peak memory (ru_maxrss, the whole
process: building the input included) is its own. "seconds" is the engine's wall time
(eligibility, diagnosis, solve, metrics; the least over --repeat runs). "/lp" is the total over
scipy HiGHS's LP optimum (run only below --lp-max-pairs); "bound" is the HiGHS max-min LP bound
below --bound-max-pairs, else the top-k bound (each proposal's k best scores), which is at least
as high, so "min/bd" is then a lower estimate.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matching import MatchingProblem, Pairs, Reviewers, Targets, find_violations, solve
from matching.affinity import AffinityInputs, compute_affinities
from matching.lp import lp_max_min_bound, lp_max_total
from matching.problem import Exclusions
from matching.reasons import ExclusionKind
from matching.synthetic import synthetic_problem, synthetic_texts
from matching.validation import max_assignable

MIDL = Path(__file__).resolve().parents[2] / "shared" / "data" / "midl"  # ../shared
ALGORITHMS = ("greedy", "optimal", "fair")
Figures = dict[str, Any]


@dataclass(frozen=True)
class Size:
    name: str
    build: Callable[[], MatchingProblem]
    note: str


def midl_problem() -> MatchingProblem:
    scores = np.load(MIDL / "scores.npy")
    r, t = np.nonzero(np.ones_like(scores))
    return MatchingProblem(
        Targets.one_per_proposal(list(range(scores.shape[1])), np.load(MIDL / "covs.npy")),
        Reviewers(list(range(scores.shape[0])), np.load(MIDL / "loads.npy").astype(np.int64)),
        Pairs.of(t, r, scores[r, t]),
    )


SIZES = {
    "midl": Size("midl", midl_problem, "118 x 177, cover 3, upper load 4"),
    "1k": Size("1k", lambda: synthetic_problem(1_000, 500, seed=1), "1k x 0.5k, 100 cand."),
    "10k": Size("10k", lambda: synthetic_problem(10_000, 5_000, seed=2), "10k x 5k, ~1M pairs"),
    "3m": Size(
        "3m",
        lambda: synthetic_problem(10_000, 5_000, candidates_per_proposal=310, seed=3),
        "10k x 5k, ~3M pairs",
    ),
    "20k": Size("20k", lambda: synthetic_problem(20_000, 20_000, seed=4), "20k x 20k, ~2M pairs"),
}
EXTRA = ("affinity", "reassign", "adversarial")
#: issue #15's targets (bench/matching_targets.py); "targets" runs them all
TARGETS = ("fair-targets", "attributes", "command")


def adversarial_cases() -> dict[str, MatchingProblem]:
    """Small calls built to break things: the engine must stay valid and say why."""
    base = synthetic_problem(1_000, 500, seed=7)
    c = base.candidates

    def rescored(score: np.ndarray) -> MatchingProblem:
        candidates = Pairs(c.target, c.reviewer, score)
        return MatchingProblem(base.targets, base.reviewers, candidates, base.exclusions)

    return {
        "infeasible supply": synthetic_problem(1_000, 500, slack=0.7, seed=7),
        "fewer than k eligible": synthetic_problem(1_000, 500, candidates_per_proposal=3, seed=7),
        "all-zero scores": rescored(np.zeros(len(c))),
        "ties everywhere": rescored(np.round(c.score, 1)),
        "heavy conflicts": synthetic_problem(1_000, 500, conflict_rate=0.98, seed=7),
    }


def _adversarial_child(conn: Any) -> None:
    out = {}
    for name, problem in adversarial_cases().items():
        feasible = max_assignable(problem)
        for algorithm in ALGORITHMS:
            result = solve(problem, algorithm)
            reasons: dict[str, int] = {}
            for shortfall in result.shortfalls:
                reasons[shortfall.reason.value] = reasons.get(shortfall.reason.value, 0) + 1
            m = result.metrics
            out[f"{name}/{algorithm}"] = {
                "assigned": m.assigned,
                "demand": m.demand,
                "max_assignable": feasible,
                "load": f"{m.load_min}-{m.load_max}",
                "violations": len(find_violations(problem, result.pairs)),
                "reasons": reasons,
                "warnings": list(result.warnings),
            }
    conn.send(out)


def print_adversarial(figures: dict[str, Figures]) -> None:
    print(
        f"{'adversarial case':<34}{'assigned':>9}{'/demand':>8}{'/max':>7}{'load':>7}{'viol':>5}"
        "  unfilled by reason"
    )
    for key, f in figures.items():
        reasons = "; ".join(f"{n} {r}" for r, n in sorted(f["reasons"].items())) or "-"
        print(
            f"{key:<34}{f['assigned']:>9}{f['demand']:>8}{f['max_assignable']:>7}"
            f"{f['load']:>7}{f['violations']:>5}  {reasons}"
        )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def top_k_bound(problem: MatchingProblem) -> float:
    """Cheap upper bound on the best minimum proposal score: each proposal's best k scores."""
    c, demand = problem.candidates, problem.targets.demand
    order = np.lexsort((-c.score, c.target))
    t, s = c.target[order], c.score[order]
    rank = np.arange(len(t)) - np.searchsorted(t, t)
    top = rank < demand[t]
    sums = np.bincount(t[top], weights=s[top], minlength=len(demand))
    return float(sums[demand > 0].min())


def _solve_child(size_name: str, algorithm: str, validate_max_pairs: int, conn: Any) -> None:
    """Build the problem and solve it in this (forked) process, so its peak memory is its own."""
    started = time.perf_counter()
    problem = SIZES[size_name].build()
    built = time.perf_counter() - started
    result = solve(problem, algorithm)
    peak = peak_mb()
    validate = len(problem.candidates) <= validate_max_pairs
    violations = len(find_violations(problem, result.pairs)) if validate else -1
    m = result.metrics
    conn.send(
        {
            "pairs": len(problem.candidates),
            "build_seconds": built,
            "bound_topk": top_k_bound(problem),
            "total": m.total,
            "min": m.min_proposal_score,
            "p10": m.p10_proposal_score,
            "load": f"{m.load_min}-{m.load_max}",
            "load_std": round(m.load_std, 3),
            "assigned": m.assigned,
            "demand": m.demand,
            "seconds": m.solve_seconds,
            "peak_mb": peak,
            "violations": violations,
        }
    )


def in_child(target: Callable[..., None], *args: Any) -> Figures:
    parent, child = mp.get_context("fork").Pipe(duplex=False)
    process = mp.get_context("fork").Process(target=target, args=(*args, child))
    process.start()
    figures: Figures = parent.recv()
    process.join()
    return figures


def _best_of(size_name: str, algorithm: str, args: argparse.Namespace) -> Figures:
    """Figures of the first run; seconds and peak are the least over --repeat runs (the machine
    is shared, so the minimum is the fairest estimate of the engine's own cost)."""
    runs = [
        in_child(_solve_child, size_name, algorithm, args.validate_max_pairs)
        for _ in range(max(1, args.repeat))
    ]
    first = runs[0]
    first["seconds"] = min(r["seconds"] for r in runs)
    first["peak_mb"] = min(r["peak_mb"] for r in runs)
    return first


def run_size(size: Size, args: argparse.Namespace) -> dict[str, Figures]:
    """Each algorithm in its own child; then, below the size limits, the HiGHS references."""
    rows = {
        a: in_child(_solve_child, size.name, a, args.validate_max_pairs) for a in args.algorithms
    }
    pairs = next(iter(rows.values()))["pairs"] if rows else 0
    print(f"# {size.name}: {size.note}; {pairs:,} pairs", flush=True)
    context: Figures = {}
    if pairs <= max(args.lp_max_pairs, args.bound_max_pairs):
        problem = size.build()
        if pairs <= args.lp_max_pairs:
            started = time.perf_counter()
            context["lp_total"] = lp_max_total(problem)
            context["lp_seconds"] = time.perf_counter() - started
        if pairs <= args.bound_max_pairs:
            context["bound_lp"] = lp_max_min_bound(problem)
    out = {}
    for algorithm, figures in rows.items():
        figures.update(context)
        out[f"{size.name}/{algorithm}"] = figures
        print_row(f"{size.name}/{algorithm}", figures, args.baseline_figures)
    return out


def _affinity_child(conn: Any) -> None:
    proposals, reviewers = synthetic_texts(10_000, 5_000, seed=5)
    started = time.perf_counter()
    pairs = compute_affinities(AffinityInputs(proposals, reviewers, top_per_proposal=100))
    conn.send({"seconds": time.perf_counter() - started, "pairs": len(pairs), "peak_mb": peak_mb()})


def _reassign_child(conn: Any) -> None:
    """Decline one reviewer on 1% of proposals of the 10k call, re-solve only the gaps."""
    problem = synthetic_problem(10_000, 5_000, seed=2)
    first = solve(problem, "optimal").pairs
    rng = np.random.default_rng(6)
    hit = rng.choice(len(problem.targets), size=len(problem.targets) // 100, replace=False)
    first_of_target = np.searchsorted(first.target, hit)
    declined = np.zeros(len(first), dtype=bool)
    declined[first_of_target] = True
    x = problem.exclusions
    n_declined = int(declined.sum())
    declined_problem = MatchingProblem(
        problem.targets,
        problem.reviewers,
        problem.candidates,
        Exclusions.of(
            np.concatenate([x.target, first.target[declined]]),
            np.concatenate([x.reviewer, first.reviewer[declined]]),
            [ExclusionKind.CONFLICT] * len(x) + [ExclusionKind.DECLINED] * n_declined,
        ),
    )
    kept = Pairs(first.target[~declined], first.reviewer[~declined], first.score[~declined])
    again = solve(declined_problem, "optimal", fixed=kept)
    before = set(zip(kept.target.tolist(), kept.reviewer.tolist(), strict=True))
    after = set(zip(again.pairs.target.tolist(), again.pairs.reviewer.tolist(), strict=True))
    conn.send(
        {
            "seconds": again.metrics.solve_seconds,
            "unchanged": len(before & after) / len(before),
            "refilled": again.metrics.assigned - len(kept),
            "declined": n_declined,
            "peak_mb": peak_mb(),
            "violations": len(find_violations(declined_problem, again.pairs)),
        }
    )


def print_header() -> None:
    print(
        f"{'run':<14}{'total':>11}{'/lp':>9}{'min':>8}{'p10':>8}{'bound':>8}{'min/bd':>8}"
        f"{'load':>7}{'seconds':>9}{'peak MB':>9}{'viol':>5}  vs baseline"
    )


def print_row(key: str, f: Figures, baseline: dict[str, Figures]) -> None:
    lp = f.get("lp_total")
    bound = f.get("bound_lp") or f.get("bound_topk")
    ratio = f"{f['total'] / lp:.6f}" if lp else "-"
    min_ratio = f"{f['min'] / bound:.3f}" if bound else "-"
    print(
        f"{key:<14}{f['total']:>11.2f}{ratio:>9}{f['min']:>8.3f}{f['p10']:>8.3f}"
        f"{(bound or 0):>8.3f}{min_ratio:>8}{f['load']:>7}{f['seconds']:>9.2f}"
        f"{f['peak_mb']:>9.0f}{f['violations']:>5}  {compare(f, baseline.get(key))}",
        flush=True,
    )


def compare(f: Figures, base: Figures | None) -> str:
    if not base:
        return ""
    parts = []
    for name in ("total", "min", "seconds", "peak_mb"):
        if base.get(name):
            change = (f[name] - base[name]) / abs(base[name]) * 100
            parts.append(f"{name} {change:+.1f}%")
    return ", ".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="midl,1k,10k,3m,20k,affinity,reassign,adversarial",
        help=f"comma list of {', '.join([*SIZES, *EXTRA, *TARGETS])}, targets",
    )
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS))
    parser.add_argument(
        "--lp-max-pairs",
        type=int,
        default=200_000,
        help="run the HiGHS max-sum LP only up to this many pairs",
    )
    parser.add_argument(
        "--bound-max-pairs",
        type=int,
        default=25_000,
        help="run the HiGHS max-min LP bound only up to this many pairs",
    )
    parser.add_argument("--validate-max-pairs", type=int, default=3_500_000)
    parser.add_argument("--repeat", type=int, default=1, help="solve each case this many times")
    parser.add_argument(
        "--milp-seconds",
        type=float,
        default=60.0,
        help="the MILP references (targets) get twice this many seconds",
    )
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--baseline", type=Path, help="compare with figures saved by --save")
    args = parser.parse_args(argv)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    if "targets" in args.sizes:
        args.sizes = [s for s in args.sizes if s != "targets"] + list(TARGETS)
    unknown = [s for s in args.sizes if s not in SIZES and s not in EXTRA + TARGETS]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}")
    args.baseline_figures = json.loads(args.baseline.read_text()) if args.baseline else {}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures: dict[str, Figures] = {}
    print_header()
    for name in args.sizes:
        if name in SIZES:
            figures.update(run_size(SIZES[name], args))
    if "affinity" in args.sizes:
        f = figures["affinity"] = in_child(_affinity_child)
        print(
            f"affinity 10k x 5k (top 100 per proposal): {f['seconds']:.2f} s, "
            f"{f['pairs']:,} pairs, peak {f['peak_mb']:.0f} MB  "
            f"{compare(f, args.baseline_figures.get('affinity'))}"
        )
    if "reassign" in args.sizes:
        f = figures["reassign"] = in_child(_reassign_child)
        print(
            f"reassign after {f['declined']} declines (1% of 10k proposals): "
            f"{f['seconds']:.2f} s, {f['unchanged']:.2%} of the other assignments unchanged, "
            f"{f['refilled']} refilled, {f['violations']} violations  "
            f"{compare(f, args.baseline_figures.get('reassign'))}"
        )
    if "adversarial" in args.sizes:
        adversarial = in_child(_adversarial_child)
        figures.update({f"adversarial/{k}": v for k, v in adversarial.items()})
        print_adversarial(adversarial)
    groups = [g for g in args.sizes if g in TARGETS]
    if groups:
        from matching_targets import run_targets

        figures.update(run_targets(groups, args.milp_seconds, args.repeat, in_child))
    if args.save:
        args.save.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        print(f"saved {len(figures)} figures to {args.save}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
