"""Fixtures of the page tests: the whole app served by uvicorn on a free port (PostgreSQL, the
test Redis as broker, PUBLIC_URL = its address, mail dropped as .eml files under the test's
data directory), and real headless Chromium driven by Playwright (Debian's `chromium`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from config import get_settings
from tests.builders import Site, free_port, served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def site(
    pg_db: Database, redis_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    """The `web` process's app on 127.0.0.1:<free port>, over the test PostgreSQL database."""
    from api.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PUBLIC_URL", url)
    monkeypatch.setenv("REVIEWQ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMTP_URL", "")
    monkeypatch.delenv("REVIEWQ_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    with served(create_app(), port):
        yield Site(url, tmp_path)
    get_settings.cache_clear()
