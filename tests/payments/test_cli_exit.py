"""`payments screen` exit codes: a message that could not be read is never hidden behind an 8."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.cli import app
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "payments"
runner = CliRunner()


def _screen(register: Engine, *names: str) -> int:
    argv = ["payments", "screen", *(str(SAMPLES / n) for n in names), "--db", str(register.url.database)]
    return runner.invoke(app, argv, env={"JOINTWATCH_DB": None}, catch_exceptions=False).exit_code


def test_held_and_unreadable_messages_exit_7(register: Engine) -> None:
    # pacs008_broken.xml: a payment that passes, an unreadable one, one to QDi.354 that is held
    assert _screen(register, "pacs008_broken.xml") == 7


def test_held_only_exits_8(register: Engine) -> None:
    assert _screen(register, "pacs008_sample.xml") == 8
