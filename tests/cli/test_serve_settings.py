"""`jointwatch serve` takes every ServiceSettings field as a flag and an environment variable.

The service itself is not started: uvicorn.run is replaced by a function that keeps the app
it is given, so the test sees the ServiceSettings a real run would serve with, built by the
real command on a real (empty) store.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import typer.main
import uvicorn
from typer.testing import CliRunner, Result

from jointwatch import settings
from jointwatch.api import ServiceSettings
from jointwatch.cli import app
from jointwatch.screening import ListPolicy, OnStale
from jointwatch.store import open_engine

runner = CliRunner()
# ServiceSettings fields that serve sets through other settings
VIA = {"list_policy": (settings.MAX_LIST_AGE, settings.STALE_LISTS)}


def _serve_params() -> dict[str, Any]:
    """serve's options by flag (Typer's own click objects)."""
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    return {opt: p for p in serve.params for opt in p.opts}


def _declared(field: str) -> tuple[settings.Setting[Any], ...]:
    return VIA.get(field) or tuple(s for s in settings.SETTINGS if s.name == field)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ServiceSettings)])
def test_serve_has_a_flag_and_a_variable_for_every_service_setting(field: str) -> None:
    declared = _declared(field)
    assert declared, f"ServiceSettings.{field} is not declared in jointwatch/settings.py"
    params = _serve_params()
    for setting in declared:
        assert setting.flag in params, f"serve has no {setting.flag}"
        assert params[setting.flag].envvar == setting.env


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ServiceSettings) if f.name not in VIA])
def test_service_defaults_are_the_declared_ones(field: str) -> None:
    (setting,) = _declared(field)
    assert getattr(ServiceSettings(), field) == setting.default


@pytest.fixture()
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """What serve would run: the app and uvicorn's arguments (the store is empty: no lists)."""
    open_engine(str(tmp_path / "jw.db"), create=True).dispose()
    monkeypatch.setenv("JOINTWATCH_CACHE", str(tmp_path / "cache"))
    seen: dict[str, Any] = {}

    def keep(app: Any, **kwargs: Any) -> None:
        seen.update(app=app, **kwargs)

    monkeypatch.setattr(uvicorn, "run", keep)
    monkeypatch.chdir(tmp_path)
    return seen


def serve(*args: str, env: dict[str, str] | None = None) -> Result:
    clean = {s.env: None for s in settings.SETTINGS}  # nothing from the environment of the test run
    return runner.invoke(app, ["serve", "--db", "jw.db", *args], env={**clean, **(env or {})},
                         catch_exceptions=False)


def test_serve_defaults_are_today_s(served: dict[str, Any]) -> None:
    result = serve()
    assert result.exit_code == 0, result.output
    assert served["app"].state.settings == ServiceSettings()
    assert (served["host"], served["port"]) == ("127.0.0.1", 8000)


def test_serve_builds_its_settings_from_flags(served: dict[str, Any]) -> None:
    result = serve("--max-body-bytes", "2000", "--max-batch", "5", "--max-job", "50", "--max-job-body-bytes", "9000",
                   "--threshold", "0.7", "--cors-origin", "https://a.example", "--cors-origin", "https://b.example",
                   "--rate-per-second", "0", "--rate-burst", "3", "--screen-timeout", "2.5",
                   "--job-poll-seconds", "0.5", "--job-stop-after", "10", "--max-list-age", "30",
                   "--stale-lists", "warn", "--media-decode-workers", "1", "--media-disputes-per-day", "4",
                   "--host", "0.0.0.0", "--port", "9000")
    assert result.exit_code == 0, result.output
    assert served["app"].state.settings == ServiceSettings(
        max_body_bytes=2000, max_batch=5, max_job=50, max_job_body_bytes=9000, threshold=0.7,
        cors_origins=("https://a.example", "https://b.example"), rate_per_second=0.0, rate_burst=3,
        screen_timeout=2.5, job_poll_seconds=0.5, job_stop_after=10, list_policy=ListPolicy(30, OnStale.warn),
        media_decode_workers=1, media_disputes_per_day=4)
    assert (served["host"], served["port"]) == ("0.0.0.0", 9000)


def test_serve_reads_the_environment_and_a_flag_wins(served: dict[str, Any]) -> None:
    result = serve("--rate-burst", "7", env={
        "JOINTWATCH_MAX_BODY_BYTES": "3000", "JOINTWATCH_CORS_ORIGINS": "https://a.example https://b.example",
        "JOINTWATCH_RATE_BURST": "9", "JOINTWATCH_SCREEN_TIMEOUT": "4", "JOINTWATCH_STALE_LISTS": "warn",
        "JOINTWATCH_PORT": "8123"})
    assert result.exit_code == 0, result.output
    got = served["app"].state.settings
    assert (got.max_body_bytes, got.cors_origins, got.rate_burst, got.screen_timeout, got.list_policy.on_stale) == (
        3000, ("https://a.example", "https://b.example"), 7, 4.0, OnStale.warn)
    assert served["port"] == 8123


@pytest.mark.parametrize(("env", "value"), [
    ("JOINTWATCH_MAX_BODY_BYTES", "lots"), ("JOINTWATCH_MAX_BODY_BYTES", "0"), ("JOINTWATCH_RATE_PER_SECOND", "nan"),
    ("JOINTWATCH_SCREEN_TIMEOUT", "inf"), ("JOINTWATCH_SCREEN_TIMEOUT", "0"), ("JOINTWATCH_THRESHOLD", "2"),
])
def test_serve_refuses_a_bad_value_naming_it(served: dict[str, Any], env: str, value: str) -> None:
    result = serve(env={env: value})
    assert result.exit_code == 2
    assert settings.BY_ENV[env].flag in result.output
    assert "app" not in served


def _all_options(command: Any, path: str = "jointwatch") -> list[tuple[str, Any]]:
    """(command path, option) for every option of every command of the app."""
    found = [(path, p) for p in command.params]
    for name, sub in getattr(command, "commands", {}).items():
        found += _all_options(sub, f"{path} {name}")
    return found


def test_every_declared_flag_is_an_option_with_its_variable() -> None:
    options = _all_options(typer.main.get_command(app))
    # lists update's --cache sets its download folder alone; the variable is read by jointwatch.settings
    for setting in (s for s in settings.SETTINGS if s.flag and s is not settings.CACHE):
        wired = [path for path, p in options if setting.flag in p.opts and p.envvar == setting.env]
        assert wired, f"no command has {setting.flag} reading {setting.env}"
    stray = sorted({(path, str(p.envvar)) for path, p in options if p.envvar and p.envvar not in settings.BY_ENV})
    assert not stray, f"options reading undeclared variables: {stray}"
