"""Attacks on requests for information (issue 17, hostile review): races between the asker's
and the holder's steps must never release an entry on a request that is not accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from jointwatch.errors import ConflictError, InvalidInputError
from jointwatch.sharing import Release, Subject, accept_request, open_request, withdraw_request
from jointwatch.sharing import requests as requests_module
from jointwatch.store import get_entry, get_request
from tests.api.conftest import Member
from tests.sharing.test_requests import blind_hit, holder_entry, subject_name


def test_an_asker_withdrawing_while_the_holder_accepts_gets_no_release(
        app: FastAPI, new_member: Callable[[], Member], monkeypatch: pytest.MonkeyPatch) -> None:
    """The holder reads the request open and releases; the asker's withdrawal lands in between. The
    request ends withdrawn, so the entry must not have been released to the asker either (the
    release was made before the state was checked, and stayed when that check failed)."""
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    entry = holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    made = open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name),
                        "border check", "Prüm art. 5")
    real = {"edit_entry": requests_module.edit_entry, "change_request": requests_module.change_request}

    def racing(name: str) -> Callable[..., Any]:
        def write(*args: Any, **kwargs: Any) -> Any:
            for each, function in real.items():       # once: the asker's own steps write as usual
                monkeypatch.setattr(requests_module, each, function)
            withdraw_request(engine, made.ref, asker.id, "officer", "identified otherwise")
            return real[name](*args, **kwargs)
        return write

    # whichever of the holder's writes comes first, the asker's withdrawal lands just before it
    for name in real:
        monkeypatch.setattr(requests_module, name, racing(name))
    with pytest.raises(ConflictError):
        accept_request(engine, made.ref, holder.id, "officer", Release(tlp="amber"))
    after = get_request(engine, made.ref)
    assert after is not None and after.state == "withdrawn" and after.released_ref is None
    now = get_entry(engine, entry.ref)
    assert now is not None and asker.id not in now.labels.audience, "released on a withdrawn request"


def test_a_release_that_fails_after_acceptance_leaves_the_request_undecided(
        app: FastAPI, new_member: Callable[[], Member], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    entry = holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    made = open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name),
                        "border check", "Prüm art. 5")

    def changed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        raise ConflictError("the entry changed meanwhile")

    monkeypatch.setattr(requests_module, "edit_entry", changed_meanwhile)
    with pytest.raises(ConflictError):
        accept_request(engine, made.ref, holder.id, "officer", Release(tlp="amber"))
    after = get_request(engine, made.ref)
    assert after is not None and after.state == "open" and after.released_ref is None and after.release is None
    now = get_entry(engine, entry.ref)
    assert now is not None and asker.id not in now.labels.audience
    monkeypatch.undo()
    assert accept_request(engine, made.ref, holder.id, "officer", Release(tlp="amber")).state == "accepted"


def test_a_request_carries_no_terminal_control_sequences(
        app: FastAPI, new_member: Callable[[], Member]) -> None:
    """The asker's words are printed on the holder's terminal (`jointwatch requests show`), and rich
    passes ESC through: a subject or reason with an escape sequence (retitle the window, clear the
    screen, a hidden hyperlink) is refused; new lines and tabs are text."""
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    for reason, subject in (("border check \x1b]0;pwned\x07", {"name": name}),
                            ("border check", {"name": name + "\x1b[2J"}),
                            ("border check", {"note": "see \x9b31m"}),
                            ("border check", {"id_numbers": ["K09\x1b[8m12345"]})):
        with pytest.raises(InvalidInputError):
            open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject.from_dict(subject),
                         reason, "Prüm")
    made = open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name),
                        "border check,\r\n\tflight LH 1234", "Prüm art. 5")
    assert made.reason == "border check,\r\n\tflight LH 1234"
