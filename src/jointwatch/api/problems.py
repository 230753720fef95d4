"""Errors as RFC 9457 problem details (type, title, status, detail), never stack traces."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from jointwatch.errors import JointwatchError

PROBLEM_TYPE = "urn:jointwatch:problem:"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("jointwatch.api")


class FieldProblem(BaseModel):
    field: str
    location: str
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


def problem_response(status: int, detail: str | None = None, slug: str | None = None,
                     errors: list[FieldProblem] | None = None,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem-details response; ``slug`` names a jointwatch problem type, else about:blank."""
    problem = Problem(type=PROBLEM_TYPE + slug if slug else "about:blank", title=HTTPStatus(status).phrase,
                      status=status, detail=detail, errors=errors)
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
                        headers=headers)


# What every route may answer besides 200, for the OpenAPI document (400: a body that is not JSON,
# or a bad Content-Length, which BodyLimitMiddleware refuses on any route; 503: the store too busy to take
# the audit row, or screening unavailable: no list loaded, or lists too old).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in (400, 401, 403, 413, 422, 503)
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem_response(exc.status_code, detail, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            # not JSON at all is a malformed request, not a subject we could not accept
            note = getattr(request.state, "audit", None)  # the request's audit note (api.auth.AuditNote)
            if note is not None:
                note.summary = "refused: the body is not JSON"
            return problem_response(400, f"the body is not valid JSON: {error.get('msg', '')}", "invalid-json")
        # the input value is left out on purpose: it may be a traveller's name
        problems.append(FieldProblem(field=".".join(loc[1:]) or loc[0] if loc else "", location=loc[0] if loc else "",
                                     message=str(error.get("msg", ""))))
    detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
    return problem_response(422, detail, "invalid-request", problems)


async def _jointwatch_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JointwatchError)
    if exc.http_status == 500:
        log.error("jointwatch error", exc_info=exc)
        return problem_response(exc.http_status, "the request could not be completed", exc.slug)
    retry = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry)} if retry else None
    return problem_response(exc.http_status, str(exc), exc.slug, headers=headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # logged for the operator with the traceback; the caller gets no internals
    log.error("unexpected error", exc_info=exc)
    return problem_response(500, "an unexpected error occurred; it has been logged", "internal")


def _declare_problem_media_type(app: FastAPI) -> None:
    """The OpenAPI document says error bodies are ``application/problem+json``, as they are sent.

    FastAPI files every declared response model under the route's own media type
    (``application/json``, or a route's own such as TAXII's); this moves the 4xx and 5xx ones
    where clients will find them.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content") or {}
                        if str(status)[:1] in "45" and content and MEDIA_TYPE not in content:
                            # application/json, or a route's own type (TAXII's): errors are problems
                            content[MEDIA_TYPE] = content.pop("application/json", None) or content.popitem()[1]
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the service answers with becomes a problem-details body, and is documented as one."""
    _declare_problem_media_type(app)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(JointwatchError, _jointwatch_error)
    app.add_exception_handler(Exception, _unexpected)
