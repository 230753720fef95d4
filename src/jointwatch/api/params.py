"""Path parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ROW_ID = 2**31 - 1      # PostgreSQL's integer: a larger number is a 422, not a database error

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row number (1 … 2³¹ − 1)")]
