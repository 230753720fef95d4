"""docs/cli.md and the README's command table are what the commands say now, and every command
reports jointwatch errors the same way (as datasette checks its CLI reference with cog)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from jointwatch.cli import app
from jointwatch.cli.docs import README, REFERENCE, TABLE_END, TABLE_START, expected, walk
from jointwatch.cli.output import JsonOption, handles_errors
from jointwatch.errors import NotFoundError

REPO = Path(__file__).resolve().parents[2]
REGENERATE = "out of date: run `python -m jointwatch.cli.docs` from the repository root"


def test_cli_reference_is_current() -> None:
    assert (REPO / REFERENCE).read_text(encoding="utf-8") == expected(app, REPO)[REFERENCE], REGENERATE


def test_readme_command_table_is_current() -> None:
    readme = (REPO / README).read_text(encoding="utf-8")
    assert TABLE_START in readme and TABLE_END in readme
    assert readme == expected(app, REPO)[README], REGENERATE


def test_reference_names_every_command_and_option() -> None:
    text = expected(app, REPO)[REFERENCE]
    for doc in walk(app):
        assert f"`{doc.path}`" in text
        for option in doc.options:
            assert f"`{option.opts[0]}`" in text, f"{doc.path} {option.opts[0]}"
    assert "\x1b[" not in text  # plain Markdown: no terminal colours


def test_every_command_handles_errors() -> None:
    """A command without @handles_errors would show a jointwatch error as a traceback (exit 1)."""
    bare = [doc.path for doc in walk(app)
            if not doc.is_group and not getattr(doc.command.callback, "handles_errors", False)]
    assert not bare, f"commands without @handles_errors: {bare}"


def test_command_functions_are_named_after_their_words() -> None:
    """One naming scheme: `jointwatch lists load` is lists_load, `jointwatch screen` is screen."""
    misnamed = [f"{doc.path}: {doc.command.callback.__name__}" for doc in walk(app)
                if not doc.is_group and doc.command.callback.__name__ != "_".join(doc.words).replace("-", "_")]
    assert not misnamed, misnamed


def _demo_app() -> typer.Typer:
    demo = typer.Typer()

    @demo.command("find")
    @handles_errors
    def find(name: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
        raise NotFoundError(f"no {name}")

    @demo.command("quiet")
    @handles_errors
    def quiet() -> None:  # no --json: the message goes to stderr
        raise NotFoundError("nothing")

    return demo


def test_handles_errors_gives_the_message_and_exit_code() -> None:
    result = CliRunner().invoke(_demo_app(), ["find", "x"])
    assert result.exit_code == NotFoundError.exit_code
    assert "error:" in result.stderr and "no x" in result.stderr
    assert result.stdout == ""


def test_handles_errors_gives_json_with_json() -> None:
    result = CliRunner().invoke(_demo_app(), ["find", "x", "--json"])
    assert result.exit_code == NotFoundError.exit_code
    assert json.loads(result.stdout) == {"error": "NotFoundError", "message": "no x",
                                         "exit_code": NotFoundError.exit_code}


def test_handles_errors_without_a_json_option() -> None:
    result = CliRunner().invoke(_demo_app(), ["quiet"])
    assert result.exit_code == NotFoundError.exit_code
    assert "nothing" in result.stderr
