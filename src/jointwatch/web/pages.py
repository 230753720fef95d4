"""What every console page shares: templates, the signed-in viewer, CSRF-checked forms, the
audit row, and the answers for "sign in first" and "refused".

Errors are pages here, not the API's problem documents: ``NeedsSignIn`` and ``Refused`` are
raised by routes and answered by the handlers ``mount_console`` installs for these two
classes only, so the API's own error handling is untouched.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from jointwatch import __version__
from jointwatch.api import Right
from jointwatch.store import record
from jointwatch.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, Viewer, current_session

PREFIX = "/console"
HERE = Path(__file__).resolve().parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
MAX_FORM_BYTES = 64_000  # a console form is a few fields; the service's body limit is for API batches
# no script, style, font, image or frame from anywhere but this server; forms post only here
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # names of screened people must not stay in a shared browser's cache
}


class NeedsSignIn(Exception):
    """No live session: the browser is sent to the sign-in page (with why: "idle" or nothing)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """A request the console answers with an error page: ``status`` and what to tell the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def render(request: Request, template: str, status: int = 200, viewer: Viewer | None = None,
           **context: Any) -> HTMLResponse:
    """The page ``template`` with the viewer, its form token and the navigation filled in."""
    html = templates.get_template(template).render(
        request=request, viewer=viewer, csrf=viewer.csrf if viewer else context.pop("csrf", ""), prefix=PREFIX,
        version=__version__, Right=Right, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(PREFIX + path, status_code=303, headers=SECURITY_HEADERS)


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, Secure over https, sent only under /console."""
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="strict", secure=is_https(request))


def drop_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True, samesite="strict", secure=is_https(request))


async def viewer_of(request: Request) -> Viewer:
    """The signed-in viewer (a dependency of every page but sign-in), or NeedsSignIn."""
    idle = timedelta(minutes=request.app.state.settings.console_idle_minutes)
    viewer, timed_out = await anyio.to_thread.run_sync(
        current_session, request.app.state.engine, request.cookies.get(SESSION_COOKIE), idle)
    if viewer is None:
        raise NeedsSignIn("idle" if timed_out else "")
    return viewer


async def form_of(request: Request, expected_csrf: str | None) -> dict[str, list[str]]:
    """The posted form's fields, once its CSRF token is checked against ``expected_csrf`` (the
    session's, or for sign-in the login cookie's): 403 when it is missing or wrong."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Refused(413, f"The form is over {MAX_FORM_BYTES:,} bytes.")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise Refused(415, "The console takes forms only.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "The form could not be read.") from None
    sent = (fields.get("csrf") or [""])[0]
    if not expected_csrf or not sent or not hmac.compare_digest(sent.encode(), expected_csrf.encode()):
        raise Refused(403, "The form's security token is missing or out of date. Reload the page and try again.")
    return fields


@dataclass(frozen=True)
class Upload:
    """One file of a posted multipart form: the name the browser gave it, its type and its bytes."""

    filename: str
    content_type: str
    data: bytes


async def upload_of(request: Request, expected_csrf: str | None,
                    max_bytes: int) -> tuple[dict[str, list[str]], dict[str, Upload]]:
    """A posted multipart form (a file upload): its text fields and its files, once its CSRF token is
    checked as ``form_of`` checks it; 413 past ``max_bytes``. Parsed by the standard library's MIME
    parser, so the console needs no multipart package."""
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip() != "multipart/form-data" or "boundary=" not in ctype:
        raise Refused(415, "This form takes a file upload (multipart/form-data).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise Refused(413, f"The upload is over {max_bytes:,} bytes.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n"
                                                  + bytes(body))
    if not message.is_multipart():
        raise Refused(400, "The form could not be read.")
    fields: dict[str, list[str]] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if data or filename:  # an empty file input sends a part with no name and no bytes
                files[name] = Upload(filename, part.get_content_type(), data)
            continue
        try:
            fields.setdefault(name, []).append(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise Refused(400, "The form could not be read.") from None
        if len(fields) > 200:
            raise Refused(400, "The form could not be read.")
    sent = (fields.get("csrf") or [""])[0]
    if not expected_csrf or not sent or not hmac.compare_digest(sent.encode(), expected_csrf.encode()):
        raise Refused(403, "The form's security token is missing or out of date. Reload the page and try again.")
    return fields, files


def field(fields: dict[str, list[str]], name: str) -> str:
    """One form field, stripped ('' when absent)."""
    return (fields.get(name) or [""])[0].strip()


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_token_of(request: Request) -> str | None:
    return request.cookies.get(LOGIN_COOKIE)


def require(viewer: Viewer, right: Right, action: str) -> None:
    """Refused (403) unless the viewer's role has ``right``: the API's rule, not a second one."""
    if not viewer.may(right):
        raise Refused(403, f"Your role ({viewer.user.role}) may not {action}.")


async def audit(request: Request, viewer: Viewer | None, action: str, status: int, *, member_id: int | None = None,
                user: str | None = None, subject: Any = None, list_versions: dict[str, str] | None = None,
                summary: str = "") -> None:
    """One audit row, through the store's audit trail like every API request ("console." actions)."""
    member = viewer.member_id if viewer else member_id
    if member is None:
        return  # nobody known to file it under (an unknown user name), as with an unknown API key
    await anyio.to_thread.run_sync(lambda: record(
        request.app.state.engine, member, viewer.user.user if viewer else (user or ""), f"console.{action}", status,
        subject=subject, list_versions=list_versions, result_summary=summary))
