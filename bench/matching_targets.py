"""The targets of issue #15, each printed with its figure and `met` / `NOT met`.

Run through matching_bench.py (`--sizes targets`, or one group: `fair-targets`,
`attributes`, `command`); each case runs in a forked child, like the other rows.

- fair: worst proposal score >= 95% of the best reachable with the total >= 98% of the
  optimum (the reference on MIDL: the exact bisection of fair_exact.py run from scratch for
  2 x `--milp-seconds`, with its proved upper bound; the top-k bound elsewhere, which is at
  least as high); where FairFlow keeps 98%
  (MIDL with loads 0..4, issue #15's table) a worst at least as high at a total at least as high;
  10k x 5k in <= 30 s.
- attribute constraints at 10k x 5k (at least 1 senior, at most 1 per organization): solved,
  with HiGHS's proved gap, and the time.
- `reviewq match` at 10k x 5k with ~1M pairs: whole command <= 3 s, peak memory <= 1 GB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from matching import MatchingProblem, Reviewers, find_violations, solve
from matching.attributes import (
    AtLeast,
    AtMost,
    Constraint,
    ReviewerAttributes,
    solve_with_attributes,
)
from matching.fair import _FairSearch
from matching.fair_exact import exact_fair
from matching.problem import Pairs
from matching.residual import SolveOptions, residual_of
from matching.synthetic import synthetic_problem

Figures = dict[str, Any]
#: FairFlow on MIDL with loads 0..4, as issue #15 quotes it
FAIRFLOW_MIDL_TOTAL = 201.728
FAIRFLOW_MIDL_WORST = 0.9448
#: issue #15's reachable worst on MIDL with loads 2..4 keeping 98% of the optimal total (MILP)
ISSUE_MIDL_LB_REFERENCE = 0.609


def with_loads(
    problem: MatchingProblem, low: int | object, high: int | None = None
) -> MatchingProblem:
    r = problem.reviewers
    n = len(r.ids)
    capacity = r.capacity if high is None else np.full(n, high, dtype=np.int64)
    mins = np.asarray(low, dtype=np.int64) if not np.isscalar(low) else np.full(n, low, np.int64)
    return MatchingProblem(
        problem.targets, Reviewers(r.ids, capacity, mins), problem.candidates, problem.exclusions
    )


def milp_reference(problem: MatchingProblem, seconds: float) -> Figures:
    """Best worst score at total >= 98% of optimal by the exact bisection (fair_exact.py), from
    scratch (not from fair's answer), with its proved upper bound (the max-min LP with the
    floor, lowered by every step HiGHS proved short of the floor)."""
    residual = residual_of(problem, Pairs.empty(), SolveOptions())
    search = _FairSearch(residual)
    base = search.run()
    started = time.perf_counter()
    exact = exact_fair(
        residual,
        search.offset,
        search.wanted,
        int(base.chosen.sum()),
        0.98 * base.total,
        2 * seconds,
        min_load=search.network.req.min_load,
    )
    if exact is None or exact.chosen is None:
        return {"milp_worst": None, "milp_total": None, "milp_seconds": seconds}
    found = search.scored(exact.chosen)
    return {
        "milp_worst": found.minimum,
        "milp_bound": exact.upper,
        "milp_total": found.total,
        "milp_steps": exact.steps,
        "milp_seconds": time.perf_counter() - started,
    }


def fair_case(build: Callable[[], MatchingProblem], milp_seconds: float) -> Figures:
    problem = build()
    optimal = solve(problem, "optimal")
    started = time.perf_counter()
    fair = solve(problem, "fair")
    seconds = time.perf_counter() - started
    m = fair.metrics
    out: Figures = {
        "pairs": len(problem.candidates),
        "optimal_total": optimal.metrics.total,
        "optimal_worst": optimal.metrics.min_proposal_score,
        "worst": m.min_proposal_score,
        "p10": m.p10_proposal_score,
        "total": m.total,
        "load": f"{m.load_min}-{m.load_max}",
        "seconds": seconds,
        "violations": len(find_violations(problem, fair.pairs)),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if milp_seconds > 0:
        out.update(milp_reference(problem, milp_seconds))
    return out


def attributes_case() -> Figures:
    problem = synthetic_problem(10_000, 5_000, seed=2)
    rng = np.random.default_rng(8)
    n = len(problem.reviewers)
    senior = rng.random(n) < 0.3
    org = rng.integers(0, 400, n)
    rows = [(i, "senior", "yes" if senior[i] else "no") for i in range(n)]
    rows += [(i, "organization", f"org{org[i]}") for i in range(n)]
    attributes = ReviewerAttributes.of(problem.reviewers.ids, rows)
    constraints: list[Constraint] = [AtLeast("senior", "yes", 1), AtMost("organization", 1)]
    started = time.perf_counter()
    out = solve_with_attributes(problem, attributes, constraints, time_limit=300, costs=False)
    return {
        "seconds": time.perf_counter() - started,
        "gap": out.gap,
        "total": out.result.metrics.total,
        "unconstrained_total": out.unconstrained_total,
        "violations": len(find_violations(problem, out.result.pairs)),
    }


def write_call_csv(problem: MatchingProblem, folder: Path) -> tuple[Path, Path]:
    c, x = problem.candidates, problem.exclusions
    scores, conflicts = folder / "scores.csv", folder / "conflicts.csv"
    t = np.char.add("p", c.target.astype(str))
    r = np.char.add("r", c.reviewer.astype(str))
    rows = np.char.add(np.char.add(np.char.add(np.char.add(t, ","), r), ","), c.score.astype(str))
    scores.write_text("proposal,reviewer,score\n" + "\n".join(rows.tolist()) + "\n")
    pairs = (f"p{a},r{b}" for a, b in zip(x.target.tolist(), x.reviewer.tolist(), strict=True))
    conflicts.write_text("proposal,reviewer\n" + "\n".join(pairs) + "\n")
    return scores, conflicts


def command_case(repeat: int) -> Figures:
    """`reviewq match` as a user runs it, in its own process, under /usr/bin/time: wall time,
    CPU time (user + system: what the machine's other load does not inflate) and peak RSS
    (ru_maxrss of a child forked from this large process would count the pre-exec copy)."""
    problem = synthetic_problem(10_000, 5_000, seed=2)
    reviewq = Path(sys.executable).parent / "reviewq"
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        scores, conflicts = write_call_csv(problem, Path(folder))
        args = [str(reviewq), "match", "--scores", str(scores), "--conflicts", str(conflicts)]
        args += ["--reviewers-per-proposal", "3", "--max-load", "8"]
        args += ["--out", str(Path(folder) / "out.json")]
        for _ in range(max(1, repeat)):
            timed = ["/usr/bin/time", "-f", "%e %U %S %M", *args]
            done = subprocess.run(timed, check=True, capture_output=True, text=True)
            wall, user, system, kb = done.stderr.strip().splitlines()[-1].split()
            runs.append((float(wall), float(user) + float(system), int(kb) / 1024))
    return {
        "seconds": min(r[0] for r in runs),
        "cpu_seconds": min(r[1] for r in runs),
        "peak_mb": min(r[2] for r in runs),
        "pairs": len(problem.candidates),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_fair(name: str, f: Figures) -> None:
    line = (
        f"fair {name:<22} worst {f['worst']:.4f} p10 {f['p10']:.4f} total {f['total']:.3f} "
        f"({f['total'] / f['optimal_total']:.2%} of optimal {f['optimal_total']:.3f}, "
        f"worst {f['optimal_worst']:.4f}) load {f['load']} {f['seconds']:.1f} s "
        f"viol {f['violations']}"
    )
    print(line)
    total_ok = f["total"] >= 0.98 * f["optimal_total"] - 1e-9
    if f.get("milp_worst") is not None:
        ref, bound = f["milp_worst"], f["milp_bound"]
        print(
            f"  MILP reference: worst {ref:.4f} at total {f['milp_total']:.3f}, proved bound "
            f"{bound:.4f} ({f['milp_steps']} steps, {f['milp_seconds']:.0f} s)"
        )
        ok = f["worst"] >= 0.95 * max(ref, f["worst"]) and total_ok
        proved = f["worst"] >= 0.95 * bound and total_ok
        print(
            f"  worst >= 95% of the MILP's ({f['worst'] / max(ref, 1e-12):.1%}), total >= 98%: "
            f"{verdict(ok)}; >= 95% of the proved bound ({f['worst'] / bound:.1%}): "
            f"{verdict(proved)}"
        )
    elif "milp_worst" in f:
        ref = ISSUE_MIDL_LB_REFERENCE
        ok = f["worst"] >= 0.95 * ref and total_ok
        print(
            f"  MILP reference: no solution within {f['milp_seconds']:.0f} s per stage; "
            f"against issue #15's {ref} (worst >= 95%, total >= 98%): {verdict(ok)}"
        )
    elif f.get("bound") is not None:
        ok = f["worst"] >= 0.95 * f["bound"] and total_ok
        print(f"  worst >= 95% of the top-k bound {f['bound']:.4f}, total >= 98%: {verdict(ok)}")


def run_targets(groups: list[str], milp_seconds: float, repeat: int, in_child: Any) -> Figures:
    """Print each target with met / NOT met; returns the figures (for --save)."""
    from matching_bench import MIDL, midl_problem, top_k_bound

    lower = np.load(MIDL / "loads-lb.npy").astype(np.int64)
    cases: dict[str, tuple[Callable[[], MatchingProblem], float]] = {
        "midl loads 0..4": (midl_problem, milp_seconds),
        "midl loads 2..4": (lambda: with_loads(midl_problem(), lower), milp_seconds),
        "1k x 500 loads 2..8": (
            lambda: with_loads(synthetic_problem(1_000, 500, seed=1), 2, 8),
            0.0,
        ),
        "10k x 5k loads 0..8": (lambda: synthetic_problem(10_000, 5_000, seed=2), 0.0),
        "10k x 5k loads 2..8": (
            lambda: with_loads(synthetic_problem(10_000, 5_000, seed=2), 2, 8),
            0.0,
        ),
    }
    figures: Figures = {}
    if "fair-targets" in groups:
        for name, (build, seconds) in cases.items():
            f = in_child(_fair_child, build, seconds)
            if seconds == 0:
                f["bound"] = top_k_bound(build())
            figures[f"targets/{name}"] = f
            print_fair(name, f)
            if name == "midl loads 0..4":
                ok = f["worst"] >= FAIRFLOW_MIDL_WORST - 1e-4 and f["total"] >= FAIRFLOW_MIDL_TOTAL
                print(
                    f"  FairFlow (issue #15): worst {FAIRFLOW_MIDL_WORST} at total "
                    f"{FAIRFLOW_MIDL_TOTAL}; as high on both: {verdict(ok)}"
                )
            if name.startswith("10k"):
                print(f"  10k x 5k fair <= 30 s: {verdict(f['seconds'] <= 30)}")
    if "attributes" in groups:
        f = figures["targets/attributes 10k"] = in_child(_attributes_child)
        print(
            f"attributes 10k x 5k (>= 1 senior, <= 1 per organization): {f['seconds']:.1f} s, "
            f"gap {f['gap']:.2e}, total {f['total']:.3f} (unconstrained "
            f"{f['unconstrained_total']:.3f}), viol {f['violations']}: "
            f"{verdict(f['violations'] == 0 and f['gap'] < 1e-3)}"
        )
    if "command" in groups:
        f = figures["targets/command 10k"] = in_child(_command_child, repeat)
        ok = f["seconds"] <= 3 and f["peak_mb"] <= 1024
        print(
            f"reviewq match 10k x 5k, {f['pairs']:,} pairs: {f['seconds']:.2f} s wall "
            f"({f['cpu_seconds']:.2f} s CPU), peak {f['peak_mb']:.0f} MB; <= 3 s and <= 1 GB: "
            f"{verdict(ok)}"
        )
    return figures


def _fair_child(build: Callable[[], MatchingProblem], seconds: float, conn: Any) -> None:
    conn.send(fair_case(build, seconds))


def _attributes_child(conn: Any) -> None:
    conn.send(attributes_case())


def _command_child(repeat: int, conn: Any) -> None:
    conn.send(command_case(repeat))
