"""A realistic, deterministic sample data file for the demo and for tests.

Reviewers `user_001`.. and reviews `rev_001`.. follow the ids of `seeds/004_*`; its example reviews
`rev_123`, `rev_456` and `rev_789` exist, unassigned, on proposals of `call_1` that no reviewer
has a conflict with, and `user_001`..`user_003` are in that call's accepted pool holding 7, 6 and
8 reviews (so the seed's round-robin example answers totalWorkload 8, 7 and 9).
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.demo.vocabulary import FIRST_NAMES, LAST_NAMES, ORGANIZATIONS, TITLES, TOPICS

SEED_REVIEWS = ("rev_123", "rev_456", "rev_789")
SEED_WORKLOADS = (7, 6, 8)  # of user_001..user_003: the seed example answers 8, 7, 9
PROFICIENCY_WEIGHT = {"expert": 1.0, "familiar": 0.6, "basic": 0.3}
BASE_DAY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@dataclass
class _Person:
    external_id: str
    name: str
    organization: str
    topics: list[str]
    expertise: dict[str, str]


@dataclass
class _Sample:
    rng: random.Random
    seed: int
    people: list[_Person] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    pools: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # call -> reviewer
    blocked: set[tuple[str, str]] = field(default_factory=set)  # (reviewer, proposal)


def sample_document(
    seed: int = 7, *, reviewers: int = 48, proposals: int = 120, reviews: int = 240
) -> dict[str, Any]:
    """A data file that `load_data` accepts: the same document for the same arguments.

    Two calls (one if fewer than 10 proposals), `reviewers` reviewers with expertise, an accepted
    pool with varied max_assignments, conflicts (pending, recused, dismissed, waived), sparse
    imported affinities, and `reviews` reviews: about four in five unassigned, the others in review
    so that workloads start between 0 and 8. Users: `admin` (staff), `manager` (manages every
    call) and one per reviewer, each with a token derived from the seed: the sample is public,
    so never load it into a database that matters.
    """
    if reviewers < 3 or proposals < 3 or reviews < 3:
        raise ValueError("the sample needs at least 3 reviewers, 3 proposals and 3 reviews")
    sample = _Sample(random.Random(seed), seed)
    calls = _calls(proposals)
    _add_people(sample, reviewers)
    _add_proposals(sample, proposals, [c["external_id"] for c in calls])
    _add_pools(sample)
    conflicts = _conflicts(sample)  # before the reviews: no one holds a review they conflict on
    return {
        "users": _users(sample),
        "reviewers": _reviewers(sample),
        "calls": calls,
        "proposals": sample.proposals,
        "pool": [entry for pool in sample.pools.values() for entry in pool.values()],
        "conflicts": conflicts,
        "affinities": _affinities(sample),
        "reviews": _reviews(sample, reviews),
    }


def demo_token(seed: int, username: str) -> str:
    """The sample's fixed token of `username` (43 URL-safe characters, like a random one)."""
    digest = hashlib.sha256(f"reviewq-sample:{seed}:{username}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _calls(proposals: int) -> list[dict[str, Any]]:
    main = {
        "external_id": "call_1",
        "name": "Open Research Infrastructure Call 2026",
        "description": "Compute, data and instrument time for research projects of any field.",
        "managers": ["u_manager"],
        "config": {
            "reviewers_per_proposal": 3,
            "assignment_expiration_days": 7,
            "send_reminder_before_expiry_days": 2,
            "auto_reassign_on_decline": True,
            "algorithm": "optimal",
            "proposal_disclosure": "titles_and_summaries",
        },
    }
    rapid = {
        "external_id": "call_2",
        "name": "Climate and Health Rapid Response",
        "description": "Short projects on the health effects of extreme weather.",
        "managers": ["u_manager", "u_admin"],
        "config": {"reviewers_per_proposal": 2, "algorithm": "fair", "min_affinity_threshold": 0.1},
    }
    return [main, rapid] if proposals >= 10 else [main]


def _add_people(sample: _Sample, count: int) -> None:
    rng, topics = sample.rng, list(TOPICS)
    for n in range(1, count + 1):
        chosen = rng.sample(topics, rng.choice((1, 2, 2)))
        expertise: dict[str, str] = {}
        for rank, topic in enumerate(chosen):
            levels = ("expert", "expert", "familiar") if rank == 0 else ("familiar", "basic")
            for keyword in rng.sample(TOPICS[topic], rng.randint(2, 4)):
                expertise[keyword] = rng.choice(levels)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        organization = rng.choice(ORGANIZATIONS)
        sample.people.append(_Person(f"user_{n:03d}", name, organization, chosen, expertise))


def _add_proposals(sample: _Sample, count: int, calls: list[str]) -> None:
    rng = sample.rng
    for n in range(1, count + 1):
        call = calls[0] if len(calls) == 1 or n % 4 else calls[1]
        topic = "earth and climate" if call == "call_2" and n % 3 else rng.choice(list(TOPICS))
        keywords = rng.sample(TOPICS[topic], 3)
        if rng.random() < 0.4:
            keywords.append(rng.choice(TOPICS[rng.choice(list(TOPICS))]))
        name = _title(rng, keywords)
        sample.proposals.append(
            {
                "external_id": f"p_{n:03d}",
                "call": call,
                "name": name,
                "slug": f"{_slug(name)[:60]}-{n}",
                "summary": _summary(rng, topic, keywords),
                "keywords": list(dict.fromkeys(keywords)),
                "organization": rng.choice(ORGANIZATIONS),
                "state": _proposal_state(rng, n),
            }
        )


def _title(rng: random.Random, keywords: list[str]) -> str:
    title = rng.choice(TITLES).format(*keywords)
    return title[0].upper() + title[1:]


def _summary(rng: random.Random, topic: str, keywords: list[str]) -> str:
    aims = rng.choice(("an open benchmark", "a reference implementation", "a public data set"))
    return (
        f"This project advances {topic} by combining {keywords[0]} with {keywords[1]}. "
        f"We study {keywords[2]} at scale on shared research infrastructure and release "
        f"{aims} so that others can reproduce and extend our results."
    )


def _proposal_state(rng: random.Random, n: int) -> str:
    if n > 6 and rng.random() < 0.03:
        return "draft"  # not assignable: generate skips it
    return "in_review" if rng.random() < 0.06 else "submitted"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _add_pools(sample: _Sample) -> None:
    rng = sample.rng
    calls = sorted({p["call"] for p in sample.proposals})
    for call in calls:
        pool: dict[str, dict[str, Any]] = {}
        for index, person in enumerate(sample.people):
            seeded = call == "call_1" and index < 3
            if call != "call_1" and rng.random() > 0.45:
                continue
            status = "accepted" if seeded else _invitation_status(rng)
            pool[person.external_id] = {
                "call": call,
                "reviewer": person.external_id,
                "max_assignments": 10 if seeded else rng.choice((3, 4, 5, 5, 6, 6, 8, 10)),
                "invitation_status": status,
            }
        sample.pools[call] = pool


def _invitation_status(rng: random.Random) -> str:
    return rng.choices(("accepted", "pending", "declined"), weights=(88, 6, 6))[0]


def _users(sample: _Sample) -> list[dict[str, Any]]:
    users = [
        _user("u_admin", "admin", "Site Administrator", "admin@reviewq.example", sample.seed),
        _user("u_manager", "manager", "Call Manager", "manager@reviewq.example", sample.seed),
    ]
    users[0]["is_staff"] = True
    taken = {"admin", "manager"}
    for person in sample.people:
        username = _slug(person.name).replace("-", ".")
        if username in taken:
            username = f"{username}.{person.external_id[-3:]}"
        taken.add(username)
        users.append(
            _user(f"u_{person.external_id}", username, person.name, _email(person), sample.seed)
        )
    return users


def _user(external_id: str, username: str, name: str, email: str, seed: int) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "username": username,
        "full_name": name,
        "email": email,
        "token": demo_token(seed, username),
    }


def _email(person: _Person) -> str:
    domain = _slug(person.organization)
    return f"{_slug(person.name).replace('-', '.')}.{person.external_id[-3:]}@{domain}.example"


def _reviewers(sample: _Sample) -> list[dict[str, Any]]:
    return [
        {
            "external_id": p.external_id,
            "name": p.name,
            "email": _email(p),
            "organization": p.organization,
            "expertise": [{"keyword": k, "proficiency": v} for k, v in p.expertise.items()],
            "biography": f"Works on {' and '.join(p.topics)} at {p.organization}.",
            "user": f"u_{p.external_id}",
        }
        for p in sample.people
    ]


def _seed_proposals(sample: _Sample) -> list[str]:
    """The call_1 proposals that carry the seed example's reviews: no one conflicts with them."""
    assignable = [
        p["external_id"]
        for p in sample.proposals
        if p["call"] == "call_1" and p["state"] != "draft"
    ]
    return assignable[:3] if len(assignable) >= 3 else (assignable * 3)[:3]


def _conflicts(sample: _Sample) -> list[dict[str, Any]]:
    rng, spared = sample.rng, set(_seed_proposals(sample))
    orgs = {p.external_id: p.organization for p in sample.people}
    conflicts = []
    for proposal in sample.proposals:
        if proposal["external_id"] in spared:
            continue
        for reviewer in sample.pools[proposal["call"]]:
            same_org = orgs[reviewer] == proposal["organization"] and rng.random() < 0.6
            if same_org or rng.random() < 0.006:
                conflicts.append(_conflict(rng, proposal, reviewer, same_org))
    for c in conflicts:
        if c["status"] in ("pending", "recused"):
            sample.blocked.add((c["reviewer"], c["proposal"]))
    return conflicts


def _conflict(
    rng: random.Random, proposal: dict[str, Any], reviewer: str, same_org: bool
) -> dict[str, Any]:
    kind, severity = (
        ("INST_SAME", "real")
        if same_org
        else rng.choice(
            (("COAUTH_RECENT", "apparent"), ("REL_MENTOR", "potential"), ("COMPET", "apparent"))
        )
    )
    return {
        "call": proposal["call"],
        "reviewer": reviewer,
        "proposal": proposal["external_id"],
        "coi_type": kind,
        "severity": severity,
        "status": rng.choices(("pending", "dismissed", "waived", "recused"), (55, 25, 12, 8))[0],
        "evidence": f"{kind.replace('_', ' ').lower()} ({proposal['organization']})",
    }


def _affinities(sample: _Sample) -> list[dict[str, Any]]:
    rng, people = sample.rng, {p.external_id: p for p in sample.people}
    rows = []
    for proposal in sample.proposals:
        for reviewer, entry in sample.pools[proposal["call"]].items():
            if entry["invitation_status"] == "declined":
                continue
            score = _affinity(rng, people[reviewer], proposal["keywords"])
            if score >= 0.3 or rng.random() < 0.1:
                rows.append(
                    {
                        "call": proposal["call"],
                        "reviewer": reviewer,
                        "proposal": proposal["external_id"],
                        "score": score,
                    }
                )
    return rows


def _affinity(rng: random.Random, person: _Person, keywords: list[str]) -> float:
    raw = sum(PROFICIENCY_WEIGHT[person.expertise[k]] for k in keywords if k in person.expertise)
    topical = any(k in TOPICS[t] for t in person.topics for k in keywords)
    score = min(1.0, raw / 2.0) * 0.75 + (0.1 if topical else 0.0) + rng.random() * 0.15
    return round(min(score, 1.0), 3)


def _reviews(sample: _Sample, count: int) -> list[dict[str, Any]]:
    rng, seeds = sample.rng, _seed_proposals(sample)
    held = _held_reviews(sample, budget=count * 22 // 100)
    free_ids = [i for i in _review_ids(count) if i not in SEED_REVIEWS]
    rng.shuffle(free_ids)
    rows = [_review(rng, i, p, None, seeded=True) for i, p in zip(SEED_REVIEWS, seeds, strict=True)]
    rows += [_review(rng, i, p, r) for i, (r, p) in zip(free_ids, held, strict=False)]
    assignable = [p["external_id"] for p in sample.proposals if p["state"] != "draft"]
    for n, review_id in enumerate(free_ids[len(held) :]):
        rows.append(_review(rng, review_id, assignable[n % len(assignable)], None))
    return sorted(rows, key=lambda r: str(r["external_id"]))


def _review_ids(count: int) -> list[str]:
    """rev_001.. , the seed example's ids taking the places of the last others if beyond."""
    ids = [f"rev_{n:03d}" for n in range(1, count + 1)]
    absent = [s for s in SEED_REVIEWS if s not in ids]
    places = [i for i in reversed(range(count)) if ids[i] not in SEED_REVIEWS][: len(absent)]
    for place, seed_id in zip(places, absent, strict=True):
        ids[place] = seed_id
    return ids


def _held_reviews(sample: _Sample, budget: int) -> list[tuple[str, str]]:
    """(reviewer, proposal) of the reviews already in review: a mixed workload per reviewer."""
    rng = sample.rng
    loads = {
        p.external_id: rng.choices(range(7), (50, 30, 10, 5, 2, 2, 1))[0] for p in sample.people
    }
    seeded = [p.external_id for p in sample.people[:3]]
    loads |= dict(zip(seeded, SEED_WORKLOADS, strict=True))
    while sum(loads.values()) > budget:
        busy = sorted(r for r, n in loads.items() if n and r not in seeded)
        loads[rng.choice(busy or sorted(r for r, n in loads.items() if n))] -= 1
    held = []
    for reviewer, load in loads.items():
        options = _reachable(sample, reviewer)
        held += [(reviewer, p) for p in rng.sample(options, min(load, len(options)))]
    return held


def _reachable(sample: _Sample, reviewer: str) -> list[str]:
    calls = {
        c
        for c, pool in sample.pools.items()
        if pool.get(reviewer, {}).get("invitation_status") == "accepted"
    }
    spared = set(_seed_proposals(sample))
    return [
        p["external_id"]
        for p in sample.proposals
        if p["call"] in calls
        and p["state"] != "draft"
        and p["external_id"] not in spared
        and (reviewer, p["external_id"]) not in sample.blocked
    ]


def _review(
    rng: random.Random, review_id: str, proposal: str, reviewer: str | None, seeded: bool = False
) -> dict[str, Any]:
    row: dict[str, Any] = {"external_id": review_id, "proposal": proposal, "reviewer": reviewer}
    row["state"] = "in_review" if reviewer else "unassigned"
    row["priority"] = "normal" if seeded else rng.choices(_PRIORITIES, (10, 70, 15, 5))[0]
    due = not seeded and rng.random() < 0.6
    row["deadline"] = _instant(BASE_DAY + timedelta(days=rng.randint(14, 75))) if due else None
    if reviewer:
        row["assigned_at"] = _instant(BASE_DAY - timedelta(days=rng.randint(1, 20), hours=3))
    return row


_PRIORITIES = ("low", "normal", "high", "urgent")


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
