"""seeds/000 lists: `page`/`page_size`, an `X-Result-Count` header and a `Link` header, paged
as Django REST framework pages: a `page_size` above MAX_PAGE_SIZE is clamped to it, and a page
past the last one is 404 `{"detail": "Invalid page."}` (the first page always exists, empty)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from pydantic import AfterValidator
from starlette.exceptions import HTTPException

MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 10
MSG_INVALID_PAGE = "Invalid page."


def _clamped(page_size: int) -> int:
    return min(page_size, MAX_PAGE_SIZE)


Page = Annotated[
    int, Query(ge=1, le=1_000_000, description="A page number within the paginated result set.")
]
PageSize = Annotated[
    int,
    Query(ge=1, description=f"Number of results to return per page (at most {MAX_PAGE_SIZE})."),
    AfterValidator(_clamped),
]


def last_page(total: int, page_size: int) -> int:
    """The number of the last page (1 for an empty list)."""
    return max(1, -(-total // page_size))


def set_list_headers(
    request: Request, response: Response, *, total: int, page: int, page_size: int
) -> None:
    """X-Result-Count, and a Link header with the first, prev, next and last pages; a `page`
    past the last one is refused with 404 "Invalid page." instead."""
    last = last_page(total, page_size)
    if page > last:
        raise HTTPException(status_code=404, detail=MSG_INVALID_PAGE)
    response.headers["X-Result-Count"] = str(total)
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = page - 1
    if page < last:
        links["next"] = page + 1
    parts = []
    for rel, number in links.items():
        url = request.url.include_query_params(page=number, page_size=page_size)
        parts.append(f'<{url}>; rel="{rel}"')
    response.headers["Link"] = ", ".join(parts)


def count_response(request: Request, *, total: int, page: int, page_size: int) -> Response:
    """HEAD on a list: its headers, no body."""
    response = Response(status_code=200)
    set_list_headers(request, response, total=total, page=page, page_size=page_size)
    return response
