"""Server-rendered pages: one Jinja environment (autoescaped: every user text is shown as
text), one layout, and the few helpers every page uses. No front-end build, nothing fetched
from outside: the CSS is inline in the layout and the charts are inline SVG (web/charts.py)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from store import User
from store.clock import to_naive_utc
from web.security import CSRF_FIELD, csrf_token, set_csrf_cookie, set_notice, take_notice

TEMPLATE_DIR = Path(__file__).with_name("templates")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_instant
    env.filters["day"] = format_day
    return env


def format_instant(value: datetime | None) -> str:
    if value is None:
        return "—"
    return to_naive_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def format_day(value: datetime | None) -> str:
    if value is None:
        return "—"
    return to_naive_utc(value).strftime("%-d %b %Y")


def page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    user: User | None = None,
    title: str = "",
    **context: Any,
) -> HTMLResponse:
    """Render `template` with the layout's context: the user, the CSRF field, a pending notice."""
    response = HTMLResponse("", status_code=status_code)
    notice = take_notice(request, response)
    html = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            title=title,
            notice=notice,
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            **context,
        )
    )
    response.body = response.render(html)
    response.headers["content-length"] = str(len(response.body))
    response.headers["cache-control"] = "no-store"
    set_csrf_cookie(request, response)
    return response


def error_page(
    request: Request,
    status_code: int,
    heading: str,
    message: str,
    *,
    user: User | None = None,
) -> HTMLResponse:
    """A clear page for a refusal: what happened and what to do; nothing was changed."""
    return page(
        request,
        "error.html.j2",
        status_code=status_code,
        user=user,
        title=heading,
        heading=heading,
        message=message,
    )


def redirect(url: str, notice: str | None = None, *, error: bool = False) -> RedirectResponse:
    """303 to `url` (the page to show after a POST), with a one-shot notice."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        set_notice(response, notice, error=error)
    return response
