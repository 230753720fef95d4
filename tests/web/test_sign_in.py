"""Console users and sessions without a browser: password hashes, the sign-in throttle, idle
timeout, disabled users and changed passwords, and the `jointwatch console users` commands."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jointwatch.api import create_app
from jointwatch.cli import app as cli
from jointwatch.errors import InvalidInputError
from jointwatch.store import (
    add_console_user,
    add_member,
    disable_console_user,
    find_console_session,
    open_engine,
    set_console_password,
)
from jointwatch.web import hash_password, mount_console, verify_password
from jointwatch.web.sessions import current_session, start_session
from tests.web.conftest import PASSWORD


def test_a_password_hash_is_salted_scrypt_with_its_parameters() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$32768$8$1$")
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "md5$whatever")
    with pytest.raises(InvalidInputError, match="at least 12"):
        hash_password("short")


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_engine(str(tmp_path / "console.db"), create=True)
    add_member(engine, "agency-a")
    user = add_console_user(engine, "agency-a", "ann", "analyst", hash_password(PASSWORD))
    yield engine, user
    engine.dispose()


def _login(client: TestClient, password: str) -> int:
    page = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = client.post("/console/login", data={"csrf": token.group(1), "user": "ann", "password": password},
                         follow_redirects=False)
    return answer.status_code


def test_failed_sign_ins_are_throttled(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    with TestClient(mount_console(create_app(engine))) as client:
        assert [_login(client, "wrong password!") for _ in range(5)] == [401] * 5
        assert _login(client, PASSWORD) == 429  # even the right password waits out the window
    with TestClient(mount_console(create_app(engine))) as client:  # a new process: a new throttle
        assert _login(client, PASSWORD) == 303


def test_a_sign_in_form_needs_its_token(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    with TestClient(mount_console(create_app(engine))) as client:
        client.get("/console/login")
        answer = client.post("/console/login", data={"user": "ann", "password": PASSWORD}, follow_redirects=False)
        assert answer.status_code == 403


def test_a_session_ends_when_idle_disabled_or_the_password_changes(store) -> None:  # type: ignore[no-untyped-def]
    engine, user = store
    token = start_session(engine, user)
    viewer, timed_out = current_session(engine, token, timedelta(minutes=30))
    assert viewer is not None and viewer.user.user == "ann" and not timed_out
    assert current_session(engine, token, timedelta(0)) == (None, True)
    assert find_console_session(engine, token) is None  # ended on the server, not only refused

    token = start_session(engine, user)
    set_console_password(engine, "ann", hash_password(PASSWORD + " new"))
    assert current_session(engine, token, timedelta(minutes=30)) == (None, False)

    token = start_session(engine, user)
    disable_console_user(engine, "ann")
    assert current_session(engine, token, timedelta(minutes=30)) == (None, False)


def test_session_cookies_are_http_only_and_strict(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    with TestClient(mount_console(create_app(engine)), base_url="https://console.example") as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        answer = client.post("/console/login", data={"csrf": token.group(1), "user": "ann", "password": PASSWORD},
                             follow_redirects=False)
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("jw_console="))
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/console"):
            assert attribute in cookie
        assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_console_users_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    open_engine(db, create=True).dispose()
    assert runner.invoke(cli, ["members", "add", "agency-a", "--db", db]).exit_code == 0
    added = runner.invoke(cli, ["console", "users", "add", "--member", "agency-a", "--user", "ann", "--role",
                                "analyst", "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(cli, ["console", "users", "passwd", "ann", "--password-stdin", "--db", db], input="short\n")
    assert short.exit_code == 7 and "at least 12" in short.output
    peer = runner.invoke(cli, ["console", "users", "add", "-m", "agency-a", "-u", "p", "-r", "peer",
                               "--password-stdin", "--db", db], input=PASSWORD + "\n")
    assert peer.exit_code == 7  # a peer is another server's key, never a person
    assert runner.invoke(cli, ["console", "users", "disable", "ann", "--db", db]).exit_code == 0
    listed = runner.invoke(cli, ["console", "users", "list", "--json", "--db", db])
    users = json.loads(listed.output)
    assert [(u["user"], u["role"], u["disabled_at"] is not None) for u in users] == [("ann", "analyst", True)]
    assert "scrypt" not in listed.output  # the hash is never printed
