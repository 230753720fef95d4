"""The CLI reference (docs/cli.md) and the README's command table, written from the Typer app itself.

The commands are the single source: their docstrings, arguments and options are walked here,
so the reference cannot drift from what ``--help`` says. After changing a command run, from the
repository root::

    python -m jointwatch.cli.docs            # rewrite docs/cli.md and the README's command table
    python -m jointwatch.cli.docs --check    # exit 1 if either is not what the commands say now

``tests/cli/test_cli_docs.py`` runs the check (as datasette runs ``cog --check``).
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

PROGRAM = "jointwatch"
REFERENCE = Path("docs/cli.md")
README = Path("README.md")
SUMMARIES = Path("src/jointwatch/cli/summaries.py")
TABLE_START = "<!-- commands:start -->"
TABLE_END = "<!-- commands:end -->"
# Typer's own shell-completion options: the same for every Typer program, and not ours to document
TYPER_OPTIONS = frozenset({"install_completion", "show_completion"})
TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH"}


@dataclass(frozen=True)
class CommandDoc:
    """One command or command group of the CLI, with the words that name it (``["lists", "load"]``)."""

    words: tuple[str, ...]
    command: Any  # a Typer command or group (Typer's own copy of click's classes)

    @property
    def path(self) -> str:
        """``jointwatch lists load``."""
        return " ".join((PROGRAM, *self.words))

    @property
    def is_group(self) -> bool:
        """Whether this is a group of sub-commands rather than a command."""
        return hasattr(self.command, "commands")

    @property
    def anchor(self) -> str:
        """The id GitHub gives the command's heading in docs/cli.md."""
        return re.sub(r"[^a-z0-9 -]", "", self.path.lower()).replace(" ", "-")

    @property
    def help(self) -> str:
        """The command's help text as written in its docstring (no terminal markup)."""
        return (self.command.help or "").strip()

    @property
    def summary(self) -> str:
        """The first paragraph of the help text, on one line."""
        return " ".join(self.help.split("\n\n")[0].split())

    @property
    def arguments(self) -> list[Any]:
        """The command's positional arguments, in order."""
        return [p for p in self.command.params if _is_argument(p) and not p.hidden]

    @property
    def options(self) -> list[Any]:
        """The command's options, in order, without Typer's completion options."""
        return [p for p in self.command.params
                if not _is_argument(p) and not p.hidden and p.name not in TYPER_OPTIONS]

    @property
    def synopsis(self) -> str:
        """``lists load PATH``: the words and the arguments, as the README's table shows them."""
        return " ".join((*self.words, *(_argument_metavar(a) for a in self.arguments)))

    @property
    def usage(self) -> str:
        """``Usage: jointwatch lists load [OPTIONS] PATH``."""
        pieces = [self.path]
        if self.options:
            pieces.append("[OPTIONS]")
        if self.is_group:
            pieces.append("COMMAND [ARGS]...")
        pieces += [_argument_metavar(a) for a in self.arguments]
        return "Usage: " + " ".join(pieces)


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _argument_metavar(param: Any) -> str:
    name = (param.metavar or param.name).upper()
    if param.nargs == -1:
        name += "..."
    return name if param.required else f"[{name}]"


def _value_type(param: Any) -> Any:
    """The Python type of one value of the parameter (``list[str] | None`` → ``str``)."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        elif origin in (list, tuple, set, frozenset):
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _metavar(param: Any) -> str:
    """How a value of the option is written: ``TEXT``, ``PATH``, ``[refuse|warn]``; empty for a flag."""
    if getattr(param, "is_flag", False):
        return ""
    if param.metavar:
        return str(param.metavar)
    value_type = _value_type(param)
    if isinstance(value_type, type) and issubclass(value_type, enum.Enum):
        return "[" + "|".join(str(member.value) for member in value_type) + "]"
    if isinstance(value_type, type):
        return TYPE_NAMES.get(value_type, value_type.__name__.upper())
    return "VALUE"


def _shown(value: Any) -> str:
    return str(value.value if isinstance(value, enum.Enum) else value)


def _facts(param: Any) -> list[str]:
    """What the help text does not say itself: required, repeatable, range, default, environment."""
    facts = []
    if param.required:
        facts.append("required")
    if param.multiple and "repeat" not in (param.help or ""):
        facts.append("repeatable")
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    above = "more than" if getattr(param, "min_open", False) else "at least"
    below = "less than" if getattr(param, "max_open", False) else "at most"
    if low is not None and high is not None:
        facts.append(f"{above} {low}, {below} {high}")
    elif low is not None:
        facts.append(f"{above} {low}")
    elif high is not None:
        facts.append(f"{below} {high}")
    default = param.default
    # show_default=False: the help text says the default itself (options made from jointwatch.settings)
    shown = getattr(param, "show_default", True) is not False
    if shown and not param.required and default not in (None, False, (), []):
        if getattr(param, "is_flag", False) and param.secondary_opts:
            default = param.opts[0] if default else param.secondary_opts[0]
        facts.append(f"default: `{_shown(default)}`")
    envvar = param.envvar
    if envvar:
        names = [envvar] if isinstance(envvar, str) else list(envvar)
        facts.append("environment: " + ", ".join(f"`{n}`" for n in names))
    return facts


def _param_line(param: Any) -> str:
    if _is_argument(param):
        names = f"`{_argument_metavar(param)}`"
    else:
        names = ", ".join(f"`{o}`" for o in (*param.opts, *param.secondary_opts))
        if metavar := _metavar(param):
            names += f" `{metavar}`"
    text = " ".join((param.help or "").split())
    facts = _facts(param)
    if facts:
        text = f"{text} ({'; '.join(facts)})" if text else f"({'; '.join(facts)})"
    return f"- {names}: {text}" if text else f"- {names}"


def walk(app: typer.Typer) -> list[CommandDoc]:
    """The program and every command and group under it, depth first in ``--help``'s order."""
    found: list[CommandDoc] = []

    def visit(words: tuple[str, ...], command: Any) -> None:
        if getattr(command, "hidden", False):
            return
        found.append(CommandDoc(words, command))
        for name, sub in getattr(command, "commands", {}).items():  # the top level's imports every module
            visit((*words, name), sub)

    visit((), typer.main.get_command(app))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def command_table(app: typer.Typer, link: str = "") -> str:
    """A Markdown table of every command (not groups) and the first paragraph of its help.

    ``link`` is the page the command names link to (``docs/cli.md``; empty: this page).
    """
    rows = ["| command | what it does |", "|---|---|"]
    for doc in walk(app):
        if doc.words and not doc.is_group:
            rows.append(f"| [`{_cell(doc.synopsis)}`]({link}#{doc.anchor}) | {_cell(doc.summary)} |")
    return "\n".join(rows) + "\n"


def reference(app: typer.Typer) -> str:
    """The whole of docs/cli.md: every command and group with its help, usage, arguments and options."""
    out = [
        "# Command reference",
        "",
        "<!-- Written by `python -m jointwatch.cli.docs` from the commands themselves: do not edit by hand. -->",
        "",
        "Every `jointwatch` command with its help, arguments and options, as `--help` gives them. This page",
        "is generated from the Typer app (`src/jointwatch/cli/`): after changing a command, run",
        "`python -m jointwatch.cli.docs` from the repository root to rewrite it and the README's command",
        "table; `python -m jointwatch.cli.docs --check` (run by `tests/cli/test_cli_docs.py`) fails while",
        "either is out of date.",
        "",
        command_table(app).rstrip("\n"),
    ]
    for doc in walk(app):
        level = "#" * min(len(doc.words) + 2, 6)
        out += ["", f"{level} `{doc.path}`", ""]
        if doc.help:
            out += [doc.help, ""]
        out += ["```text", doc.usage, "```"]
        if doc.is_group:
            subs = [d for d in walk_children(doc)]
            if subs:
                out += ["", "Commands:", ""]
                out += [f"- [`{d.words[-1]}`](#{d.anchor}): {d.summary}" for d in subs]
        if doc.arguments:
            out += ["", "Arguments:", ""] + [_param_line(p) for p in doc.arguments]
        if doc.options:
            out += ["", "Options:", ""] + [_param_line(p) for p in doc.options]
    return "\n".join(out) + "\n"


def walk_children(doc: CommandDoc) -> list[CommandDoc]:
    """The commands and groups directly under a group."""
    return [CommandDoc((*doc.words, name), sub) for name, sub in doc.command.commands.items()
            if not getattr(sub, "hidden", False)]


def with_command_table(readme: str, table: str) -> str:
    """``readme`` with the text between its command-table markers replaced by ``table``."""
    start, end = readme.find(TABLE_START), readme.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {TABLE_START} … {TABLE_END} markers around its command table")
    return readme[:start + len(TABLE_START)] + "\n" + table + readme[end:]


def summaries(app: typer.Typer, modules: tuple[str, ...]) -> str:
    """The whole of cli/summaries.py: each top-level command, the module it comes from and the
    first paragraph of its help, in ``--help``'s order (what the top-level help shows without
    importing the command modules)."""
    from jointwatch.cli import module_commands  # noqa: PLC0415 - this module is imported by it

    origin = {name: module for module in modules for name in module_commands((module,), app)}
    rows = []
    for name, command in module_commands(modules, app).items():
        text = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        rows.append(f"    ({name!r}, {origin[name]!r},\n     {text!r}),")
    head = ('"""The top-level commands of `jointwatch`: the name of each, the module under jointwatch.cli that\n'
            "adds it and the first paragraph of its help, in the order `jointwatch --help` lists them: what that\n"
            "help shows without importing the command modules (jointwatch.cli.LazyGroup).\n\n"
            "Written by `python -m jointwatch.cli.docs` from the commands themselves: do not edit by hand.\n"
            '"""\n\n# ruff: noqa: E501 - each summary on one line, as written\n\n')
    return head + "TOP_LEVEL: tuple[tuple[str, str, str], ...] = (\n" + "\n".join(rows) + "\n)\n"


def expected(app: typer.Typer, root: Path) -> dict[Path, str]:
    """The files this module writes, with the text each must hold now."""
    from jointwatch.cli import MODULES  # noqa: PLC0415 - this module is imported by it

    readme = (root / README).read_text(encoding="utf-8")
    return {REFERENCE: reference(app), README: with_command_table(readme, command_table(app, str(REFERENCE))),
            SUMMARIES: summaries(app, MODULES)}


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) docs/cli.md and the README's command table."""
    parser = argparse.ArgumentParser(prog="python -m jointwatch.cli.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository (default: here)")
    args = parser.parse_args(argv)
    from jointwatch.cli import app  # noqa: PLC0415 - the app imports every command module

    stale = []
    for relative, text in expected(app, args.root).items():
        path = args.root / relative
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(str(relative))
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `python -m jointwatch.cli.docs`", file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
