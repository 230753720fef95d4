"""The CLI's two rich consoles and its table: whole lines for pipes and logs, data never read as markup.

On a terminal rich fits output to the window. Anywhere else (a pipe, a file, a log, CliRunner)
there is no window, and a cell cut to "us_ofa…" or a URL folded at column 80 is a fact lost
to whoever reads it, so lines are printed whole. Names, references, paths and messages come
from lists, files and users: "[spark]" or "[aka]" in them is text, not a style, so it goes in
as ``Text`` or through ``rich.markup.escape``; only our own labels are markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleDimensions, JustifyMethod, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

# The width of a console that does not write to a terminal: wider than any line we print, so
# rich never folds or ellipsises (rich lays text out per line, it never allocates this width).
UNBOUNDED_WIDTH = 1_000_000


class CliConsole(Console):
    """A rich console that fits a terminal's width, and prints every line whole anywhere else."""

    @property
    def size(self) -> ConsoleDimensions:
        """The terminal's size; unbounded width when the output is not a terminal (even with COLUMNS set)."""
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.is_terminal else ConsoleDimensions(UNBOUNDED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


# the most of one cell a table shows: a value from a file can be any length (an account number of 100,000
# characters made a pipe's table 1.3 MB, every row padded to it); the rest is named, never dropped silently, and
# ``--json`` has it whole
CELL_CHARACTERS = 1000


def _cell(text: str) -> str:
    if len(text) <= CELL_CHARACTERS:
        return text
    return f"{text[:CELL_CHARACTERS]}… ({len(text) - CELL_CHARACTERS:,} more characters; --json has them)"


class DataTable(Table):
    """A rich table whose string cells and title are data: printed as given, never read as markup.

    A cell meant to be styled is passed as ``Text`` (``Text(status, style="red")``). A string cell longer
    than ``CELL_CHARACTERS`` is shown that far and says how much more there is.
    """

    def __init__(self, *headers: Any, title: str | Text | None = None, **options: Any) -> None:
        if isinstance(title, str):
            # a Text title is drawn with its own style, not title_style: carry it over
            title = Text(title, style=options.get("title_style") or "table.title")
        super().__init__(*headers, title=title, **options)

    def add_row(self, *renderables: RenderableType | None, style: StyleType | None = None,
                end_section: bool = False) -> None:
        """Add a row; string cells are shown exactly as given."""
        super().add_row(*(Text(_cell(r)) if isinstance(r, str) else r for r in renderables), style=style,
                        end_section=end_section)


console = CliConsole()
err_console = CliConsole(stderr=True)


def print_message(label: str, message: object, *, stderr: bool = True, justify: JustifyMethod | None = None) -> None:
    """``label`` (our rich markup, e.g. "[bold red]error:[/]") then ``message`` verbatim.

    Soft-wrapped: rich inserts no line breaks, so a URL or path is never split inside a word;
    a terminal wraps the line itself, and a log keeps it on one line.
    """
    target = err_console if stderr else console
    target.print(f"{label} {escape(str(message))}" if label else escape(str(message)), highlight=False,
                 soft_wrap=True, justify=justify)


__all__ = ["CliConsole", "DataTable", "UNBOUNDED_WIDTH", "console", "err_console", "print_message"]
