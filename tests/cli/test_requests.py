"""`reviewq requests show` for each kind of queued request."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app
from store import AssignmentRequest
from store.enums import RequestKind, RequestStatus


def test_a_finished_generate_request_shows_its_counts_and_skipped_proposals(
    runner: CliRunner,
) -> None:
    body = {
        "batches_created": 2,
        "items_created": 5,
        "proposals_processed": 3,
        "skipped_proposals": [
            {"proposal_uuid": "p-1", "proposal_name": "Lonely", "reason": "no eligible reviewer"}
        ],
    }
    request = AssignmentRequest.create(
        kind=RequestKind.GENERATE_ASSIGNMENTS,
        status=RequestStatus.SUCCEEDED,
        result=body,
        http_status=200,
    )
    result = runner.invoke(app, ["requests", "show", str(request.uuid)])
    assert result.exit_code == 0, result.output
    assert "5 item(s) in 2 new draft batch(es); 3 proposal(s) processed" in result.output
    assert "no eligible reviewer" in result.output


def test_a_failed_assign_request_shows_its_error_code(runner: CliRunner) -> None:
    error = {
        "code": "REVIEWS_NOT_FOUND",
        "message": "Some review IDs were not found",
        "invalidIds": ["rev_9"],
    }
    request = AssignmentRequest.create(
        kind=RequestKind.ASSIGN_REVIEWS,
        status=RequestStatus.FAILED,
        result={"error": error},
        http_status=404,
    )
    result = runner.invoke(app, ["requests", "show", str(request.uuid), "--json"])
    assert result.exit_code == 0, result.output
    assert '"REVIEWS_NOT_FOUND"' in result.output
    assert runner.invoke(app, ["requests", "show", "no-such-id"]).exit_code == 1


def test_list_shows_the_newest_first_and_filters_by_status(runner: CliRunner) -> None:
    failed = AssignmentRequest.create(kind=RequestKind.ASSIGN_REVIEWS, status=RequestStatus.FAILED)
    queued = AssignmentRequest.create(kind=RequestKind.GENERATE_ASSIGNMENTS)
    result = runner.invoke(app, ["requests", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [str(queued.uuid), str(failed.uuid)]
    only = runner.invoke(app, ["requests", "list", "--status", "failed", "--json"])
    assert [row["id"] for row in json.loads(only.stdout)] == [str(failed.uuid)]
    table = runner.invoke(app, ["requests", "list"], env={"COLUMNS": "200"})
    assert str(queued.uuid) in table.stdout and "generate_assignments" in table.stdout
    bad = runner.invoke(app, ["requests", "list", "--status", "lost"])
    assert bad.exit_code == 2 and "--status: 'lost'" in bad.stderr
    shown = runner.invoke(app, ["requests", "show", str(failed.uuid)[:10]])
    assert shown.exit_code == 0 and str(failed.uuid) in shown.stdout
