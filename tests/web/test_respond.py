"""The reviewer's response page in real headless Chromium: from the link of a real .eml of the
outbox, answers through the API's use cases, idempotent clicks, and links that must not work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from store import AssignmentBatch, AssignmentItem, Notification, Review
from store.clock import utcnow
from store.enums import BatchStatus, ItemStatus, NotificationKind
from tests.builders import (
    Site,
    WebWorld,
    build_web_world,
    response_link_in_outbox,
    screenshot,
)


def _card(page: Any, item: AssignmentItem) -> Any:
    return page.locator(f'[data-item="{item.uuid}"]')


def _api_items(site: Site, world: WebWorld) -> dict[str, dict[str, Any]]:
    answer = httpx.get(
        f"{site.url}/api/assignment-items/",
        params={"batch_uuid": str(world.batch.uuid)},
        headers={"Authorization": f"Token {world.reviewer_token}"},
    )
    assert answer.status_code == 200, answer.text
    return {row["uuid"]: row for row in answer.json()}


def test_a_reviewer_answers_from_the_e_mail_link_and_the_api_shows_it(
    site: Site, browser_page: Any
) -> None:
    world = build_web_world()
    link = response_link_in_outbox(site.outbox, world.reviewer.email)
    assert link.startswith(f"{site.url}/respond/")
    accept, decline, blocked = world.items
    page = browser_page

    page.goto(link)
    assert page.get_by_role("heading", name=world.call.name).is_visible()
    assert page.get_by_text("Thank you for helping us.").is_visible()
    assert page.get_by_text("Summary of Dark matter maps.").is_visible()
    # the COI-blocked item shows its title only, and no button
    assert _card(page, blocked).get_by_text("On hold").first.is_visible()
    assert "Summary of Exoplanet census" not in page.content()
    assert _card(page, blocked).get_by_role("button").count() == 0
    screenshot(page, "reviewer-page-before")

    _card(page, accept).get_by_role("button", name="Accept").click()
    assert page.get_by_text("You accepted").is_visible()
    assert _card(page, accept).get_by_text("Accepted").is_visible()

    card = _card(page, decline)
    card.get_by_role("button", name="Decline").click()
    card.get_by_label("Reason").fill("I am travelling all month.")
    screenshot(page, "reviewer-page-declining")
    card.get_by_role("button", name="Confirm decline").click()
    assert _card(page, decline).get_by_text("Declined").is_visible()
    screenshot(page, "reviewer-page")

    rows = _api_items(site, world)
    assert rows[str(accept.uuid)]["status"] == "accepted"
    assert rows[str(decline.uuid)]["status"] == "declined"
    assert rows[str(decline.uuid)]["decline_reason"] == "I am travelling all month."
    assert Review.select().where(Review.proposal == accept.proposal_id).count() == 1
    notices = Notification.select().where(Notification.kind == NotificationKind.DECLINE_NOTICE)
    assert [n.recipient for n in notices] == [world.manager.email]


def test_a_second_click_changes_nothing(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    page = browser_page
    accept = world.items[0]
    page.goto(response_link_in_outbox(site.outbox, world.reviewer.email))
    form = _card(page, accept).locator("form[action$='/accept']")
    action = form.get_attribute("action")
    csrf = form.locator("input[name=csrf_token]").get_attribute("value")
    _card(page, accept).get_by_role("button", name="Accept").click()
    assert _card(page, accept).get_by_text("Accepted").is_visible()

    # the same form posted again, as a double click or a resubmitted page would
    again = page.request.post(f"{site.url}{action}", form={"csrf_token": csrf})

    assert again.status == 200
    assert "already accepted" in again.text()
    assert AssignmentItem.get_by_id(accept.id).status == ItemStatus.ACCEPTED
    assert Review.select().where(Review.proposal == accept.proposal_id).count() == 1


def test_a_tampered_link_is_a_clear_400_and_changes_nothing(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    link = response_link_in_outbox(site.outbox, world.reviewer.email)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    response = browser_page.goto(tampered)

    assert response.status == 400
    assert browser_page.get_by_role("heading", name="This link does not work").is_visible()
    assert browser_page.get_by_role("button", name="Accept").count() == 0
    assert {i.status for i in AssignmentItem.select()} == {
        ItemStatus.PENDING,
        ItemStatus.COI_BLOCKED,
    }


def test_the_link_of_another_batch_cannot_answer_this_one(site: Site, browser_page: Any) -> None:
    mine = build_web_world()
    other = build_web_world(
        call_name="Biology",
        reviewer_name="Rosalind Franklin",
        titles=("Cell walls", "Ribosomes", "DNA helix"),
    )
    page = browser_page
    page.goto(response_link_in_outbox(site.outbox, other.reviewer.email))
    assert mine.items[0].proposal.name not in page.content()

    # a form of the other batch's page, pointed at an item of mine
    form = page.locator("form[action$='/accept']").first
    action = form.get_attribute("action")
    assert action is not None
    hijacked = action.rsplit("/items/", 1)[0] + f"/items/{mine.items[0].uuid}/accept"
    form.evaluate("(f, a) => f.setAttribute('action', a)", hijacked)
    form.get_by_role("button", name="Accept").click()

    assert page.get_by_role("heading", name="Not found").is_visible()
    assert AssignmentItem.get_by_id(mine.items[0].id).status == ItemStatus.PENDING
    assert Review.select().count() == 0


def test_an_expired_batch_says_so_and_offers_no_buttons(site: Site, browser_page: Any) -> None:
    world = build_web_world()
    link = response_link_in_outbox(site.outbox, world.reviewer.email)
    AssignmentBatch.update(
        status=BatchStatus.EXPIRED, expires_at=utcnow() - timedelta(hours=1)
    ).where(AssignmentBatch.id == world.batch.id).execute()
    AssignmentItem.update(status=ItemStatus.EXPIRED).where(
        AssignmentItem.batch == world.batch.id, AssignmentItem.status == ItemStatus.PENDING
    ).execute()

    response = browser_page.goto(link)

    assert response.status == 410
    assert browser_page.get_by_text("This invitation expired").is_visible()
    assert browser_page.get_by_role("button").filter(has_text="Accept").count() == 0
    assert browser_page.locator("form[action*='/respond/']").count() == 0
