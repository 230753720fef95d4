"""The examples of README.md and docs/*.md, read out of their fenced blocks, ready to run.

The docs are the single source: what a command must exit with and what it must print is
written next to it, where a reader sees it.

- ```` ```sh ```` (also ``bash``, ``shell``): every line that is not a ``#`` comment is a
  command; a line ending in ``\\``, ``|`` or ``&&``, or inside an open quote, goes on to the
  next line.
- ```` ```console ````: ``$ `` starts a command; the lines after it, up to the next ``$``,
  are output it must print (compared line by line with runs of spaces made one, and ``…``
  standing for any text).
- ```` ```python ````: the block is a script, run whole.
- A command's trailing comment that starts with ``exit N`` (``# exit 8: one payment held``)
  is the exit code it must give; without one, 0.
- ``A && B`` and ``A ; B`` are run as separate commands, in order; ``# exit N`` is the last one's.
- A fence with any other tag, or none, is not run; a ``jointwatch`` command in it is an
  error, so an example cannot escape the test by losing its tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SHELL_TAGS = frozenset({"sh", "bash", "shell", "console"})
PYTHON_TAGS = frozenset({"python", "py"})

# Commands that cannot run in a test, each with the reason. Everything else in a shell block
# is run; a command that is neither run nor listed here fails the test (see `skip_reason`).
SKIPPED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^pip install\b"), "changes the installed packages"),
    (re.compile(r"^python -m pytest\b"), "the test suite itself"),
    (re.compile(r"^jointwatch lists update\b(?!.*\s--from\s)"), "downloads the lists: needs the Internet"),
    (re.compile(r"\s--spark-master\s+spark://"), "needs a Spark cluster"),
    # a Spark JVM in local mode takes a minute or more to start and run; tests/network proves
    # that Spark gives the same results as DuckDB on the same transactions
    (re.compile(r"^jointwatch network .*\s--engine\s+spark\b"), "starts Spark (minutes)"),
    # the same for screening on Spark; tests/screening/test_spark.py proves it writes the local answers
    (re.compile(r"^jointwatch (?:screen|customers) .*\s--engine\s+spark\b"), "starts Spark (a minute or more)"),
)
# `curl` is run against the service a page starts with `jointwatch serve`; on a page that
# starts none (a route shown beside its command) there is nothing to call.
CURL_WITHOUT_SERVICE = "calls the service, which this page does not start"

_EXIT = re.compile(r"^exit (\d+)\b")
_RULES = str.maketrans("│┃", "  ")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass
class Example:
    """One command (or script) of a doc: where it is, what it must exit with and print."""

    path: Path
    line: int
    command: str
    exit_code: int = 0
    output: list[str] = field(default_factory=list)
    python: bool = False

    @property
    def where(self) -> str:
        """`docs/x.md:12`, for messages."""
        return f"{self.path.parent.name + '/' if self.path.parent.name == 'docs' else ''}{self.path.name}:{self.line}"

    @property
    def assigned(self) -> str | None:
        """The shell variable a `NAME=value` line sets, or None."""
        m = _ASSIGNMENT.match(self.command)
        return m.group(1) if m else None


def skip_reason(command: str, service_started: bool) -> str | None:
    """Why this command is not run, or None when it is run."""
    for pattern, reason in SKIPPED:
        if pattern.search(command):
            return reason
    if command.startswith("curl ") and not service_started:
        return CURL_WITHOUT_SERVICE
    return None


def _scan(text: str) -> tuple[int | None, bool]:
    """Where the shell comment of ``text`` starts (an unquoted ``#`` at a word's start), if it
    has one, and whether the text before it ends inside a quoted string."""
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return i, False
    return None, quote is not None


def split_comment(line: str) -> tuple[str, str]:
    """The shell code of a line and its trailing comment (without `#`), `#` in quotes kept."""
    start, _ = _scan(line)
    if start is None:
        return line.rstrip(), ""
    return line[:start].rstrip(), line[start + 1:].strip()


def open_quote(text: str) -> bool:
    """Whether text ends inside a quoted string (so the command goes on to the next line)."""
    return _scan(text)[1]


def split_chain(code: str) -> list[str]:
    """`A && B ; C` → [A, B, C]; separators inside quotes or `$( )` are kept."""
    parts: list[str] = []
    quote: str | None = None
    depth = 0
    start = i = 0
    while i < len(code):
        ch = code[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif code.startswith("$(", i):
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0 and (code.startswith("&&", i) or ch == ";"):
            parts.append(code[start:i].strip())
            i += 2 if ch == "&" else 1
            start = i
            continue
        i += 1
    parts.append(code[start:].strip())
    return [p for p in parts if p]


def _commands(path: Path, line: int, text: str) -> list[Example]:
    """The examples of one logical command line (chains split, `# exit N` read)."""
    code, comment = split_comment(re.sub(r"\s*\\\n\s*", " ", text))
    if not code:
        return []
    m = _EXIT.match(comment)
    parts = split_chain(code)
    examples = [Example(path, line, part) for part in parts]
    if m and examples:
        examples[-1].exit_code = int(m.group(1))
    return examples


def _logical_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Physical lines joined where a command goes on (`\\` at the end, an open quote)."""
    joined: list[tuple[int, str]] = []
    buffer: list[str] = []
    first = 0
    for number, text in lines:
        if not buffer:
            first = number
        buffer.append(text)
        whole = "\n".join(buffer)
        if whole.endswith(("\\", "|", "&&")) or open_quote(whole):
            continue
        joined.append((first, whole))
        buffer = []
    if buffer:
        joined.append((first, "\n".join(buffer)))
    return joined


def _shell_block(path: Path, lines: list[tuple[int, str]], console: bool) -> list[Example]:
    examples: list[Example] = []
    if not console:
        code = [(n, t) for n, t in lines if t.strip() and not t.lstrip().startswith("#")]
        for number, text in _logical_lines(code):
            examples += _commands(path, number, text.strip())
        return examples
    # console: `$ command` (continued as in sh), then the output it must print
    command: list[str] = []
    first = 0
    for number, text in lines:
        if command and (command[-1].endswith("\\") or open_quote("\n".join(command))):
            command.append(text)
            continue
        if command:
            examples += _commands(path, first, "\n".join(command).strip())
            command = []
        if text.startswith("$ "):
            command, first = [text[2:]], number
        elif text.strip() and examples:
            examples[-1].output.append(text)
    if command:
        examples += _commands(path, first, "\n".join(command).strip())
    return examples


def read_examples(path: Path) -> tuple[list[Example], list[str]]:
    """The examples of one Markdown file in order, and the problems found (untagged commands)."""
    examples: list[Example] = []
    problems: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if not fence.startswith("```"):
            i += 1
            continue
        tag = fence[3:].strip().split(" ")[0].lower()
        start = i + 1
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            i += 1
        body = [(n + 1, lines[n]) for n in range(start, min(i, len(lines)))]
        i += 1
        if tag in SHELL_TAGS:
            examples += _shell_block(path, body, console=tag == "console")
        elif tag in PYTHON_TAGS:
            examples.append(Example(path, start, "\n".join(t for _, t in body), python=True))
        else:
            for number, text in body:
                if re.match(r"^\s*(\$ )?jointwatch ", text):
                    problems.append(f"{path.name}:{number}: a jointwatch command in a ```{tag} block, which is "
                                    "not run: tag the block ```sh or ```console")
    return examples, problems


def output_matches(expected: str, printed: str) -> bool:
    """Whether one shown output line is on a line of what the command printed.

    Runs of spaces count as one and table rules (│ ┃) as spaces, so a doc may show a table row
    without its rules; `…` stands for any text.
    """
    def plain(text: str) -> str:
        return " ".join(text.translate(_RULES).split())

    pattern = ".*?".join(re.escape(plain(part)) for part in expected.split("…"))
    return any(re.search(pattern, plain(line)) for line in printed.splitlines())
