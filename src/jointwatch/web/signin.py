"""Sign-in and sign-out pages: the password checked against its scrypt hash, failures
throttled per user name and per address, every attempt audited under the user's member."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jointwatch.errors import NotFoundError
from jointwatch.store import get_console_user
from jointwatch.web.pages import (
    audit,
    drop_cookie,
    field,
    form_of,
    login_token_of,
    new_login_token,
    redirect,
    render,
    set_cookie,
    viewer_of,
)
from jointwatch.web.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    Viewer,
    check_password,
    end_session,
    start_session,
)

router = APIRouter(include_in_schema=False)


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.console_throttle
    return throttle


def _login_page(request: Request, status: int = 200, message: str = "", user: str = "") -> HTMLResponse:
    """The sign-in form with a fresh form token, also set as the login cookie (double submit)."""
    token = new_login_token()
    response = render(request, "login.html", status, csrf=token, message=message, user=user)
    set_cookie(response, request, LOGIN_COOKIE, token)
    return response


# why the browser was sent to sign in, by code: the page never shows text taken from the URL
REASONS = {"idle": "You were signed out after a while without activity.", "signed_out": "You are signed out."}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, reason: str = "") -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, message=REASONS.get(reason, ""))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the user name and password; on success a new session and on to screening."""
    fields = await form_of(request, login_token_of(request))
    user, password = field(fields, "user"), (fields.get("password") or [""])[0]
    address = request.client.host if request.client else "unknown"
    throttle = _throttle(request)
    wait = throttle.retry_after(user, address)
    if wait is not None:
        refused = _login_page(request, 429, f"Too many failed sign-ins. Try again in {wait} seconds.", user)
        refused.headers["Retry-After"] = str(wait)
        return refused
    engine = request.app.state.engine
    found = await anyio.to_thread.run_sync(check_password, engine, user, password)
    if found is None:
        throttle.failed(user, address)
        known = await anyio.to_thread.run_sync(_member_of, request, user)
        if known is not None:
            await audit(request, None, "sign_in", 401, member_id=known, user=user, summary="refused: wrong password "
                        "or disabled user")
        return _login_page(request, 401, "The user name or password is not right.", user)
    throttle.succeeded(user)
    token = await anyio.to_thread.run_sync(start_session, engine, found)
    await audit(request, None, "sign_in", 200, member_id=found.member_id, user=found.user,
                summary=f"signed in as {found.role} of {found.member_name}")
    response: Response = redirect("/screen")
    set_cookie(response, request, SESSION_COOKIE, token)
    drop_cookie(response, request, LOGIN_COOKIE)
    return response


def _member_of(request: Request, user: str) -> int | None:
    """The member of a console user name, for the audit row of a refused sign-in."""
    try:
        return get_console_user(request.app.state.engine, user).member_id
    except NotFoundError:
        return None


@router.post("/logout")
async def logout(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> RedirectResponse:
    """End the session on the server and drop its cookie."""
    await form_of(request, viewer.csrf)
    await anyio.to_thread.run_sync(end_session, request.app.state.engine, viewer)
    await audit(request, viewer, "sign_out", 200, summary="signed out")
    response = redirect("/login?reason=signed_out")
    drop_cookie(response, request, SESSION_COOKIE)
    return response
