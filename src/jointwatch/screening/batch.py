"""Batch screening: a CSV of subjects in, one JSON line per subject out, resumable.

Input columns: ``id,name`` required; ``schema,birth_date,nationality,country,id_number,gender``
optional (several countries or numbers separated by ";"). A bad row becomes a line with an
``error`` naming the row and field, and the batch goes on. Stopping and running the same
command again continues after the last subject written (rows are known by their line).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from jointwatch import jsonout
from jointwatch.errors import JointwatchError, MessageFormatError, QueryError
from jointwatch.screening.alerts import job_alerts
from jointwatch.screening.model import Query
from jointwatch.screening.screener import Screener
from jointwatch.screening.spark import SparkScreening
from jointwatch.store import NewAlert

REQUIRED = ("id", "name")
OPTIONAL = ("schema", "birth_date", "nationality", "country", "id_number", "gender")
MAX_FIELD = 10_000
csv.field_size_limit(1_000_000)


@dataclass
class BatchSummary:
    queries: int = 0
    screened: int = 0
    skipped: int = 0          # already in the output from an earlier run
    with_matches: int = 0
    errors: int = 0


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


def read_queries(path: Path) -> Iterator[tuple[int, str, Query | QueryError]]:
    """(line number, id, query or the error of that row) for each data row of the CSV."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except (UnicodeDecodeError, csv.Error) as error:
            raise MessageFormatError(path, "line 1", f"unreadable header ({error})") from None
        missing = [c for c in REQUIRED if c not in (header or [])]
        if missing:
            raise MessageFormatError(path, "line 1", f"missing column(s) {', '.join(missing)} "
                                                     f"(needs id,name; may have {','.join(OPTIONAL)})")
        seen: set[str] = set()
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as error:
                raise MessageFormatError(path, f"line {reader.line_num}", str(error)) from None
            line = reader.line_num
            row_id = (row.get("id") or "").strip()
            if not row_id:
                yield line, "", QueryError(f"line {line}: id is empty")
                continue
            if row_id in seen:
                yield line, row_id, QueryError(f"line {line}: id {row_id!r} appears twice")
                continue
            seen.add(row_id)
            if None in row or any(v is not None and len(v) > MAX_FIELD for v in row.values()):
                yield line, row_id, QueryError(f"line {line}: too many fields or a field over {MAX_FIELD} characters")
                continue
            yield line, row_id, Query(
                name=row.get("name") or "",
                schema=(row.get("schema") or "").strip() or "Person",
                birth_date=(row.get("birth_date") or "").strip() or None,
                countries=_split(row.get("nationality")) + _split(row.get("country")),  # FtM's two words
                gender=(row.get("gender") or "").strip() or None,
                id_numbers=_split(row.get("id_number")),
                id=row_id,
            )


def _done_lines(output: Path) -> set[int]:
    """Input lines already answered; a last output line cut short by a crash is removed first."""
    if not output.exists():
        return set()
    with output.open("rb+") as f:
        data = f.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            f.truncate(end)
    done = set()
    for raw in data[:end].splitlines():
        try:
            done.add(int(json.loads(raw)["line"]))
        except (ValueError, KeyError, TypeError):
            raise MessageFormatError(output, None, "not a results file of jointwatch screen (cannot resume)") from None
    return done


def match_record(match: Any) -> dict[str, Any]:
    """A match as plain data (JSON lines, the CLI's --json, travel answers); ``shared`` says whose
    partner entry a partner hit is and its handling codes (None for an official list)."""
    data = asdict(match)
    return {k: data[k] for k in ("entity_id", "source", "reference", "schema", "caption", "name", "score",
                                 "list_version", "explanation", "shared")}


def screen_row(screener: Screener, row: tuple[int, str, Query | QueryError], threshold: float | None = None,
               limit: int = 10, member_id: int | None = None) -> dict[str, Any]:
    """One subject's line of the results: its matches, or the error that kept it from being screened."""
    line, row_id, query = row
    record: dict[str, Any] = {"id": row_id, "line": line}
    try:
        if isinstance(query, QueryError):
            raise query
        record["matches"] = [match_record(m) for m in screener.screen(query, threshold=threshold, limit=limit,
                                                                       member_id=member_id)]
    except JointwatchError as error:
        record["error"] = str(error) if str(error).startswith("line ") else f"line {line}: {error}"
        record["matches"] = []
    return record


def result_line(screener: Screener, row: tuple[int, str, Query | QueryError], threshold: float | None = None,
                limit: int = 10, member_id: int | None = None) -> str:
    """``screen_row`` as the JSON line the results file holds."""
    return jsonout.dumps(screen_row(screener, row, threshold, limit, member_id))


def _count(summary: BatchSummary, record: dict[str, Any]) -> None:
    if "error" in record:
        summary.errors += 1
    else:
        summary.screened += 1
        summary.with_matches += bool(record["matches"])


def screen_file(screener: Screener, input_path: Path, output_path: Path, threshold: float | None = None,
                limit: int = 10, restart: bool = False,
                progress: Callable[[int, int], None] | None = None, member_id: int | None = None,
                spark: SparkScreening | None = None,
                alerts: Callable[[list[NewAlert]], object] | None = None) -> BatchSummary:
    """Screen every row of ``input_path`` into ``output_path`` (JSON lines), resuming by default;
    ``member_id``: whose false-positive decisions apply. With ``spark``, the rows not yet
    answered are screened on Spark (``screening.spark``) and written in the same order, line
    for line what this process would write.

    ``alerts`` is handed the alerts of the subjects with matches (``job_alerts``) to file in
    the member's queue. Locally each chunk's alerts are handed over before its lines are written,
    so a batch stopped half way and resumed may file a chunk's alerts twice but never loses one;
    on Spark they are handed over once the lines are written."""
    rows = list(read_queries(input_path))
    if restart and output_path.exists():
        output_path.unlink()
    done = _done_lines(output_path)
    summary = BatchSummary(queries=len(rows))
    if spark is not None:
        todo = [row for row in rows if row[0] not in done]
        summary.skipped = len(rows) - len(todo)
        start = output_path.stat().st_size if output_path.exists() else 0
        spark.write_lines(todo, partial(result_line, threshold=threshold, limit=limit, member_id=member_id),
                          output_path)
        queries = {line: query for line, _, query in todo}
        found: list[NewAlert] = []
        with output_path.open("rb") as written:
            written.seek(start)
            for raw in written:
                record = json.loads(raw)
                _count(summary, record)
                found += _alerts_of(input_path, queries.get(record["line"]), record) if alerts else []
        if alerts and found:
            alerts(found)
        if progress:
            progress(len(rows), len(rows))
        return summary
    out: IO[str]
    chunk: list[str] = []
    found = []
    with output_path.open("a", encoding="utf-8") as out:
        for n, row in enumerate(rows, start=1):
            if row[0] in done:
                summary.skipped += 1
            else:
                record = screen_row(screener, row, threshold, limit, member_id)
                _count(summary, record)
                chunk.append(jsonout.dumps(record) + "\n")
                found += _alerts_of(input_path, row[2], record) if alerts else []
            if len(chunk) >= 256 or (n == len(rows) and chunk):
                if alerts and found:
                    alerts(found)   # before the lines: a resumed batch screens these rows again
                out.writelines(chunk)
                out.flush()
                os.fsync(out.fileno())
                chunk, found = [], []
            if progress:
                progress(n, len(rows))
    return summary


def _alerts_of(input_path: Path, query: Query | QueryError | None, record: dict[str, Any]) -> list[NewAlert]:
    """A result line's alerts: the subject's file, line and id are the alert's reference."""
    if not isinstance(query, Query) or not record.get("matches"):
        return []
    return job_alerts(f"{input_path.name} line {record['line']} (id {record['id']})", query, record["matches"])
