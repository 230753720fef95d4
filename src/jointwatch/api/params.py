"""Parameters shared by the routers: row numbers in paths, a file sent as the body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from jointwatch.errors import InvalidInputError

MAX_ROW_ID = 2**31 - 1      # PostgreSQL's integer: a larger number is a 422, not a database error

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row number (1 … 2³¹ − 1)")]

# bodies that wrap a file instead of being it: stored or hashed as they are, a form's envelope would stand in for
# the file (a media upload matched nothing and banked an unreadable "file"), so it is refused instead
_FORMS = ("multipart/", "application/x-www-form-urlencoded")


async def file_body(request: Request) -> bytes:
    """The request's body as the file it is; InvalidInputError (422) for a form (curl -F)."""
    if request.headers.get("content-type", "").strip().lower().startswith(_FORMS):
        raise InvalidInputError("the body is a form; send the file's bytes as they are, with Content-Type "
                                "application/octet-stream (curl --data-binary @FILE, not -F)")
    return await request.body()
