"""Mounting the console on the service: its pages under /console, its files under
/console/static, and the two error handlers that answer a console request with a page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

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
    return app
