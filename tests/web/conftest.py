"""Fixtures of the page tests: the whole app served by uvicorn on a free port (PostgreSQL, the
test Redis as broker, PUBLIC_URL = its address, mail dropped as .eml files under the test's
data directory), and real headless Chromium driven by Playwright (Debian's `chromium`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from peewee import Database

from config import get_settings
from tests.builders import free_port

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@dataclass(frozen=True)
class Site:
    url: str
    data_dir: Path

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"


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
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield Site(url, tmp_path)
    server.should_exit = True
    thread.join(timeout=10)
    get_settings.cache_clear()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (not committed) for people to see."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
