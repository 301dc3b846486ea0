"""seeds/000 lists: `page`/`page_size`, an `X-Result-Count` header and a `Link` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 10

Page = Annotated[
    int, Query(ge=1, le=1_000_000, description="A page number within the paginated result set.")
]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="Number of results to return per page.")
]


def set_list_headers(
    request: Request, response: Response, *, total: int, page: int, page_size: int
) -> None:
    """X-Result-Count, and a Link header with the first, prev, next and last pages."""
    response.headers["X-Result-Count"] = str(total)
    last = max(1, -(-total // page_size))
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
