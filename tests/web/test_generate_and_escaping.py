"""Generate from the call's page through real `dramatiq` worker processes (queued, progress
until done), and every user text shown as text on both pages (HTML injection)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from store import AssignmentBatch
from store.enums import BatchStatus
from tests.builders import PG_URL as DATABASE_URL
from tests.builders import (
    REDIS_URL,
    Site,
    build_web_world,
    response_link_in_outbox,
    sign_in,
    stop_process_group,
)
from tests.factories import make_pool_entry, make_reviewer
from workers.supervisor import start_dramatiq

INJECTED = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>"


@pytest.fixture
def workers(site: Site) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "REVIEWQ_DATA_DIR": str(site.data_dir),
        "PUBLIC_URL": site.url,
        "SMTP_URL": "",
    }
    log = (site.data_dir / "worker.log").open("wb")
    proc = start_dramatiq(1, 2, env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log)
    yield proc
    stop_process_group(proc)
    log.close()


def test_generate_is_queued_shows_progress_and_then_the_drafts(
    site: Site, browser_page: Any, workers: subprocess.Popen[bytes]
) -> None:
    world = build_web_world()
    for name in ("Carl Sagan", "Vera Rubin"):
        make_pool_entry(world.call, make_reviewer(name=name))
    page = browser_page
    sign_in(page, site, world.manager_token, f"/calls/{world.call.uuid}")

    page.get_by_role("button", name="Generate assignments").click()

    assert "/requests/" in page.url
    page.get_by_text("Done:").wait_for(timeout=60_000)  # the page refreshed itself meanwhile
    assert page.locator("#request-status").inner_text() == "succeeded"
    drafts = AssignmentBatch.select().where(
        AssignmentBatch.call == world.call.id, AssignmentBatch.status == BatchStatus.DRAFT
    )
    made = drafts.count()
    assert made >= 1
    page.get_by_role("link", name="Back to the call").click()
    page.get_by_role("button", name=f"Send all drafts ({made})").click()
    assert page.get_by_text(f"{made} invitation(s) sent").is_visible()
    assert drafts.count() == 0


def test_names_notes_and_reasons_are_shown_as_text(site: Site, browser_page: Any) -> None:
    world = build_web_world(
        call_name=f"Call {INJECTED}",
        reviewer_name=f"Eve {INJECTED}",
        titles=(f"Title {INJECTED}", "Second", "Third"),
        manager_notes=f"Note {INJECTED}",
    )
    page = browser_page
    page.goto(response_link_in_outbox(site.outbox, world.reviewer.email))
    for text in (f"Call {INJECTED}", f"Note {INJECTED}", f"Title {INJECTED}"):
        assert page.get_by_text(text).first.is_visible()
    assert page.locator("main img, main b").count() == 0
    card = page.locator(f'[data-item="{world.items[1].uuid}"]')
    card.get_by_role("button", name="Decline").click()
    card.get_by_label("Reason").fill(f"Reason {INJECTED}")
    card.get_by_role("button", name="Confirm decline").click()
    assert page.get_by_text(f"Your reason: Reason {INJECTED}").is_visible()

    sign_in(page, site, world.manager_token, f"/calls/{world.call.uuid}")
    assert page.locator("#declines").get_by_text(f"Reason {INJECTED}").is_visible()
    assert page.locator("#declines").get_by_text(f"Eve {INJECTED}").is_visible()
    assert page.locator("main img, main b").count() == 0
    assert page.title() != "pwned"
