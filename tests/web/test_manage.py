"""The manager's pages in real headless Chromium: sign in with a token, read the call's state
(decline reasons, coverage), decide a conflict, reassign, force-unblock, extend; CSRF; a
manager of another call gets 404; a tampered session is no session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from store import AssignmentBatch, AssignmentItem, ConflictOfInterest
from store.clock import utcnow
from store.enums import BatchStatus, CoiStatus, ItemStatus
from tasks.items.answers import decline_item
from tests.builders import Site, WebWorld, build_web_world, screenshot, sign_in
from tests.factories import make_call, make_call_manager, make_pool_entry, make_reviewer


def call_page(page: Any, site: Site, world: WebWorld) -> Any:
    return page.goto(f"{site.url}/calls/{world.call.uuid}")


def test_the_manager_signs_in_sees_declines_and_coverage_and_dismisses_a_conflict(
    site: Site, browser_page: Any
) -> None:
    world = build_web_world()
    accept, decline, blocked = world.items
    decline_item(world.reviewer_user, str(decline.uuid), reason="Too close to my own work.")
    page = browser_page

    sign_in(page, site, world.manager_token)
    page.get_by_role("link", name=world.call.name).click()

    assert page.get_by_role("heading", name=world.call.name, exact=True).is_visible()
    declines = page.locator("#declines")
    assert declines.get_by_text("Too close to my own work.").is_visible()
    assert declines.get_by_text(world.reviewer.name).is_visible()
    coverage = page.locator("#coverage")
    row = coverage.locator(f'[data-proposal="{accept.proposal.uuid}"]')
    # one pending invitation of the two reviewers needed, none accepted yet
    assert [c.strip() for c in row.locator("td.num").all_inner_texts()] == ["0", "1", "2", "1"]
    assert page.locator("svg[aria-labelledby=coverage-title]").count() == 1
    assert page.locator("svg[aria-labelledby=load-title] rect.col").count() >= 2
    screenshot(page, "call-page")

    conflict = page.locator(f'[data-conflict="{world.conflict.uuid}"]')
    conflict.get_by_role("button", name="Dismiss").click()

    assert page.get_by_text("Conflict dismissed: 1 item(s) unblocked.").is_visible()
    assert ConflictOfInterest.get_by_id(world.conflict.id).status == CoiStatus.DISMISSED
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.PENDING
    conflict = page.locator(f'[data-conflict="{world.conflict.uuid}"]')
    assert conflict.get_by_text("dismissed").is_visible()


def test_reassign_force_unblock_and_extend_from_the_call_page(
    site: Site, browser_page: Any
) -> None:
    world = build_web_world()
    declined, _accepted, blocked = world.items
    other = make_pool_entry(world.call, make_reviewer(name="Carl Sagan"))
    decline_item(world.reviewer_user, str(declined.uuid), reason="No time.")
    page = browser_page
    sign_in(page, site, world.manager_token, f"/calls/{world.call.uuid}")

    card = page.locator(f'[data-item="{declined.uuid}"]')
    card.get_by_label("Reassign to").select_option(str(other.uuid))
    card.get_by_role("button", name="Reassign").click()
    assert page.get_by_text("Reassigned to Carl Sagan").is_visible()
    assert AssignmentItem.get_by_id(declined.id).status == ItemStatus.REASSIGNED

    card = page.locator(f'[data-item="{blocked.uuid}"]')
    card.get_by_label("Override reason").fill("The co-authorship is ten years old.")
    card.get_by_role("button", name="Force unblock").click()
    assert page.get_by_text("The item is pending again").is_visible()
    assert AssignmentItem.get_by_id(blocked.id).status == ItemStatus.PENDING

    AssignmentBatch.update(status=BatchStatus.EXPIRED).where(
        AssignmentBatch.id == world.batch.id
    ).execute()
    page.reload()
    new_deadline = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    row = page.locator(f'[data-batch="{world.batch.uuid}"]')
    row.get_by_label("until (UTC)").fill(new_deadline.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Extend").click()
    assert page.get_by_text("now expires at").is_visible()
    batch = AssignmentBatch.get_by_id(world.batch.id)
    assert (batch.status, batch.expires_at) == (BatchStatus.SENT, new_deadline)


def test_a_refusal_is_shown_on_the_page_and_changes_nothing(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    page = browser_page
    sign_in(page, site, world.manager_token, f"/calls/{world.call.uuid}")
    row = page.locator(f'[data-batch="{world.batch.uuid}"]')
    row.get_by_label("until (UTC)").fill("2001-01-01T10:00")
    row.get_by_role("button", name="Extend").click()

    assert page.get_by_text("New deadline must be in the future.").is_visible()
    assert AssignmentBatch.get_by_id(world.batch.id).expires_at == world.batch.expires_at


def test_a_form_post_without_the_csrf_token_is_refused(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    page = browser_page
    sign_in(page, site, world.manager_token, f"/calls/{world.call.uuid}")
    action = f"{site.url}/calls/{world.call.uuid}/conflicts/{world.conflict.uuid}/decide"

    refused = page.request.post(action, form={"status": "dismissed"})
    forged = page.request.post(action, form={"status": "dismissed", "csrf_token": "x.y"})

    assert (refused.status, forged.status) == (403, 403)
    assert "Form refused" in refused.text()
    assert ConflictOfInterest.get_by_id(world.conflict.id).status == CoiStatus.PENDING
    link = page.locator("form[action$='/decide']").first  # the page's own form still works
    assert link.count() == 1


def test_a_manager_of_another_call_gets_404_and_a_bad_session_is_none(
    site: Site, browser_page: Any
) -> None:
    world = build_web_world()
    stranger = make_call_manager(make_call(name="Chemistry"))
    from tasks.users import rotate_token

    page = browser_page
    sign_in(page, site, rotate_token(stranger))
    assert page.get_by_role("link", name="Chemistry").is_visible()
    assert page.get_by_role("link", name=world.call.name).count() == 0

    response = call_page(page, site, world)
    assert response.status == 404
    assert world.reviewer.name not in page.content()

    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "reviewq_session", "value": "forged.value.here", "url": site.url}]
    )
    call_page(page, site, world)
    assert page.url.startswith(f"{site.url}/login")


def test_a_wrong_token_does_not_sign_in(site: Site, browser_page: Any) -> None:
    build_web_world()
    page = browser_page
    page.goto(f"{site.url}/login")
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("That token is not valid").is_visible()
    assert not any(c["name"] == "reviewq_session" for c in page.context.cookies())
