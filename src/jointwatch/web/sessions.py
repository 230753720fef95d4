"""Signing in and staying signed in: password check, login throttle, sessions with an idle timeout.

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure over https); the
store keeps its digest, the user and the session's form token (CSRF), so a session can be
ended on the server (logout, idle, a disabled user or a changed password) whatever the
browser keeps.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from jointwatch.api import RIGHTS, Right
from jointwatch.errors import NotFoundError
from jointwatch.store import (
    ConsoleSession,
    ConsoleUser,
    end_console_session,
    find_console_session,
    get_console_user,
    open_console_session,
    touch_console_session,
)
from jointwatch.web.passwords import DUMMY_HASH, verify_password

SESSION_COOKIE = "jw_console"
LOGIN_COOKIE = "jw_console_login"  # the sign-in form's token, before there is a session (double submit)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request: their member, role and what the role may do (the API's RIGHTS)."""

    session: ConsoleSession

    @property
    def user(self) -> ConsoleUser:
        return self.session.user

    @property
    def member_id(self) -> int:
        return self.session.user.member_id

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def may(self, right: Right) -> bool:
        return right in RIGHTS.get(self.user.role, frozenset())


class LoginThrottle:
    """Failed sign-ins per user name and per client address in a sliding window: past the limit
    the password is not even checked until the window has room again. In memory, per process,
    like the API's rate limit: it slows a guesser, the password's scrypt cost does the rest."""

    def __init__(self, per_user: int = 5, per_address: int = 20, window_seconds: float = 900.0) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, user: str, address: str) -> list[tuple[str, str]]:
        return [("user", user.strip().casefold()), ("address", address)]

    def retry_after(self, user: str, address: str) -> int | None:
        """Seconds to wait before this user name or address may try again, or None."""
        now = time.monotonic()
        waits = []
        with self._lock:
            for key in self._keys(user, address):
                failures = self._failures.get(key)
                if not failures:
                    continue
                while failures and now - failures[0] > self.window:
                    failures.popleft()
                if len(failures) >= self.limits[key[0]]:
                    waits.append(int(self.window - (now - failures[0])) + 1)
        return max(waits) if waits else None

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            for key in self._keys(user, address):
                self._failures.setdefault(key, deque()).append(time.monotonic())

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user.strip().casefold()), None)


def check_password(engine: Engine, user: str, password: str) -> ConsoleUser | None:
    """The active user ``user`` if ``password`` is theirs, else None. An unknown user costs a
    hash check too, so the answer's timing does not tell which names exist."""
    try:
        found = get_console_user(engine, user.strip())
    except NotFoundError:
        verify_password(password, DUMMY_HASH)
        return None
    if not verify_password(password, found.password_hash) or not found.active:
        return None
    return found


def start_session(engine: Engine, user: ConsoleUser) -> str:
    """A new session of ``user``: the token for the cookie (the store keeps its digest)."""
    token = secrets.token_urlsafe(32)
    open_console_session(engine, user.id, token, secrets.token_urlsafe(32))
    return token


def current_session(engine: Engine, token: str | None, idle: timedelta) -> tuple[Viewer | None, bool]:
    """The viewer of ``token`` and whether a session just ended for being idle longer than
    ``idle``. A live session's idle time starts again; a disabled user has no session."""
    if not token:
        return None, False
    session = find_console_session(engine, token)
    if session is None or not session.user.active:
        return None, False
    if datetime.now(UTC) - session.last_seen_at > idle:
        end_console_session(engine, session.token_hash)
        return None, True
    touch_console_session(engine, session.token_hash)
    return Viewer(session), False


def end_session(engine: Engine, viewer: Viewer) -> None:
    end_console_session(engine, viewer.session.token_hash)
