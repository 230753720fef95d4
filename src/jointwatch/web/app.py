"""Mounting the console on the service: its pages under /console, its files under
/console/static, and the two error handlers that answer a console request with a page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from jointwatch.web import (
    alerts,
    decisions,
    discovery,
    entities,
    financing,
    freezes,
    lists,
    media,
    payments,
    requests,
    screening,
    sharing,
    signin,
    travel,
)
from jointwatch.web.pages import HERE, PREFIX, NeedsSignIn, Refused, redirect, render
from jointwatch.web.sessions import LoginThrottle


def _needs_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NeedsSignIn)
    if request.headers.get("hx-request") == "true":
        # htmx would put the sign-in page inside the results; tell it to load the page whole
        response = Response(status_code=401)
        response.headers["HX-Redirect"] = f"{PREFIX}/login"
        return response
    return redirect("/login" + (f"?reason={exc.reason}" if exc.reason else ""))


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    # under htmx the answer replaces part of a page (results, a row's form): a fragment, not a page
    fragment = request.headers.get("hx-request") == "true"
    return render(request, "_refused.html" if fragment else "error.html", exc.status, message=exc.message)


class _UploadTooLarge:
    """A console form over the service's body limit answered with a page (413) saying the limit,
    before the API's body limit answers it with a problem document the analyst would see as
    raw JSON. Only a declared Content-Length is read here (a browser always sends one for a
    form); a body that grows past it while read is still stopped by the API's limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PREFIX + "/"):
            declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
            if declared.isdigit() and len(declared) < 20 and int(declared) > self.max_bytes:
                page = render(Request(scope), "error.html", 413,
                              message=f"The upload is over {self.max_bytes:,} bytes, the service's limit "
                                      "(JOINTWATCH_MAX_BODY_BYTES); nothing of it was read.")
                await page(scope, receive, send)
                return
        await self.app(scope, receive, send)


def mount_console(app: FastAPI) -> FastAPI:
    """Add the console to the service ``app`` (``jointwatch.api.create_app``'s): it uses the
    app's store, settings and screeners, so the console and the API screen with one index."""
    app.state.console_throttle = LoginThrottle()
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    for router in (signin.router, screening.router, decisions.router, alerts.router, sharing.router, discovery.router,
                   requests.router, financing.router, entities.router, lists.router, media.router, travel.router,
                   payments.router, freezes.router):
        app.include_router(router, prefix=PREFIX)
    app.add_exception_handler(NeedsSignIn, _needs_sign_in)
    app.add_exception_handler(Refused, _refused)
    app.add_middleware(_UploadTooLarge, max_bytes=app.state.settings.max_body_bytes)
    return app
