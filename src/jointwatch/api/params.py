"""Parameters shared by the routers: row numbers in paths, a file sent as the body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from jointwatch.errors import InvalidInputError

MAX_ROW_ID = 2**31 - 1      # PostgreSQL's integer: a larger number is a 422, not a database error

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row number (1 … 2³¹ − 1)")]


async def file_body(request: Request) -> bytes:
    """The request's body as the file it is; InvalidInputError (422) for a multipart form (curl -F), which wraps the
    file: stored or hashed as it is, its envelope would stand in for the file (a media upload matched nothing and
    banked an unreadable "file"). A url-encoded type is taken as it comes: it is what ``curl --data-binary`` sends
    without -H, over the file's bytes as they are."""
    if request.headers.get("content-type", "").strip().lower().startswith("multipart/"):
        raise InvalidInputError("the body is a multipart form; send the file's bytes as they are (curl --data-binary "
                                "@FILE -H 'Content-Type: application/octet-stream', not -F)")
    return await request.body()
