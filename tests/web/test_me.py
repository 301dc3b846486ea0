"""`/me` in real headless Chromium: a signed-in reviewer sees all their invitations (sent,
responded, expired; never drafts) and the reviews they hold, where review e-mails link to."""

from __future__ import annotations

from typing import Any

from store import AssignmentBatch
from store.enums import BatchStatus
from tasks.items.answers import accept_item
from tasks.links import review_link
from tests.builders import Site, build_web_world, screenshot, sign_in
from tests.factories import make_assignment_batch, make_call


def test_a_reviewer_sees_every_invitation_and_review_on_me(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    accepted = accept_item(world.reviewer_user, str(world.items[0].uuid))
    expired_call = make_call(name="Old call")
    make_assignment_batch(expired_call, world.reviewer, status=BatchStatus.EXPIRED)
    make_assignment_batch(make_call(name="Hidden draft"), world.reviewer)
    page = browser_page

    sign_in(page, site, world.reviewer_token, "/me")

    assert page.get_by_role("heading", name="My invitations").is_visible()
    table = page.locator("table").first
    assert table.get_by_text(world.call.name).is_visible()
    assert table.get_by_text("Old call").is_visible()
    assert page.get_by_text("Hidden draft").count() == 0
    assert AssignmentBatch.select().count() == 3
    link = review_link(accepted.review.public_id)
    page.goto(link.replace(link.split("/me")[0], site.url))
    row = page.locator(f"#review-{accepted.review.public_id}")
    assert row.get_by_text(world.items[0].proposal.name).is_visible()
    screenshot(page, "me-page")
    page.locator("table").first.get_by_role("link", name="Answer").click()
    assert page.get_by_role("heading", name=world.call.name).is_visible()
