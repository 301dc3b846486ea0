"""The files under `examples/`: a realistic data file in its JSON and CSV forms, interfaces.md's
example with its placeholders filled in, and a seeds/004 request for `reviewq assign --file`.

They are the demo's sample (cli/demo/sample.py) at its own size and seed, without API tokens
(a file in a repository must not carry working credentials: `reviewq user create` makes them).
Regenerate with `.venv/bin/python -m cli.demo.examples examples`; a test checks that the
committed files are what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cli.demo.sample import SEED_REVIEWS, sample_document
from tasks.imports.data_file import write_csv_directory

EXAMPLE_SEED = 11
EXAMPLE_SIZE = {"reviewers": 36, "proposals": 72, "reviews": 144}

# interfaces.md's data file example, each "..." and the optional token filled in, u_rev1 defined.
SPEC_EXAMPLE: dict[str, Any] = {
    "users": [
        {"external_id": "u_admin", "username": "admin", "email": "admin@example.org",
         "is_staff": True},
        {"external_id": "u_rev1", "username": "ada", "email": "ada@example.org"},
    ],
    "reviewers": [
        {"external_id": "user_001", "name": "Ada Lovelace", "email": "ada@example.org",
         "organization": "Analytical Engines Ltd",
         "expertise": [{"keyword": "graph theory", "proficiency": "expert"}], "user": "u_rev1"},
    ],
    "calls": [
        {"external_id": "call_1", "name": "Open Call 2026",
         "description": "Compute time for research projects.", "managers": ["u_admin"],
         "config": {"reviewers_per_proposal": 3, "auto_reassign_on_decline": True}},
    ],
    "proposals": [
        {"external_id": "p_1", "call": "call_1", "name": "Graph colouring at scale",
         "summary": "Colouring graphs of a billion edges.", "keywords": ["graph theory"],
         "organization": "Example University", "state": "submitted"},
    ],
    "pool": [
        {"call": "call_1", "reviewer": "user_001", "max_assignments": 5,
         "invitation_status": "accepted"},
    ],
    "conflicts": [
        {"call": "call_1", "reviewer": "user_001", "proposal": "p_1", "coi_type": "INST_SAME",
         "severity": "real", "status": "pending", "evidence": "Same institution."},
    ],
    "affinities": [{"call": "call_1", "reviewer": "user_001", "proposal": "p_1", "score": 0.82}],
    "reviews": [
        {"external_id": "rev_123", "proposal": "p_1", "priority": "normal", "deadline": None,
         "reviewer": None, "state": "unassigned"},
    ],
}  # fmt: skip


def example_document() -> dict[str, Any]:
    """The realistic data file: the demo's sample at EXAMPLE_SIZE, its users without tokens."""
    document = sample_document(EXAMPLE_SEED, **EXAMPLE_SIZE)
    for user in document["users"]:
        user.pop("token", None)
    return document


def assign_request() -> dict[str, Any]:
    """seeds/004's round-robin example, over the example file's reviews and reviewers."""
    return {
        "reviewIds": list(SEED_REVIEWS),
        "assignmentStrategy": {
            "type": "round_robin",
            "pool": ["user_001", "user_002", "user_003"],
            "maxPerReviewer": 10,
        },
        "priority": "high",
        "deadline": "2026-12-16T17:00:00Z",
        "notifyReviewers": True,
    }


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_examples(directory: Path) -> list[Path]:
    """Write every example file under `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    document = example_document()
    files = {
        "call.json": document,
        "interfaces-example.json": SPEC_EXAMPLE,
        "assign-request.json": assign_request(),
    }
    written = []
    for name, value in files.items():
        path = directory / name
        path.write_text(_dump(value), encoding="utf-8")
        written.append(path)
    return written + write_csv_directory(document, directory / "call-csv")


if __name__ == "__main__":
    for path in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "examples")):
        print(path)
