"""`jointwatch screen`, `jointwatch compare`, `jointwatch decisions …`: name screening."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from jointwatch import csvsafe
from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import (
    BirthDateOption,
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    UserOption,
    console,
    default_user,
    err_console,
    handles_errors,
    member_for,
    print_json,
    reading_member_id,
)
from jointwatch.cli.screening_options import (
    MaxListAgeOption,
    ScreeningEngine,
    ScreeningEngineOption,
    ScreeningSparkMasterOption,
    StaleListsOption,
    screener_for,
    spark_screening,
)
from jointwatch.errors import MessageFormatError, QueryError
from jointwatch.screening import (
    DEFAULT_MAX_LIST_AGE_DAYS,
    DEFAULT_THRESHOLD,
    QUERY_SCHEMATA,
    Match,
    OnStale,
    Query,
    SparkScreening,
    match_record,
    open_screener,
    prepare,
    screen_file,
)
from jointwatch.store import (
    LOCAL_MEMBER,
    NewAlert,
    file_alerts,
    list_decisions,
    open_engine,
    record_decision,
    withdraw_decision,
)

ThresholdOption = Annotated[
    float | None,
    typer.Option("--threshold", "-t", min=0.0, max=1.0,
                 help=f"Report matches scoring at least this (0..1). Default {DEFAULT_THRESHOLD}: "
                      "see docs/screening.md for the alert rates it gives."),
]
SchemaOption = Annotated[str, typer.Option("--schema", "-s", help=f"Subject type: {', '.join(QUERY_SCHEMATA)}.")]


def _explain_line(match: Match) -> str:
    words = ", ".join(f"{w.query}→{w.listed} ({w.rule})" for w in match.explanation.words)
    extra = "; ".join(f"{q.kind} {q.outcome} {q.effect}" for q in match.explanation.qualifiers)
    missing = ", ".join(match.explanation.unmatched_query)
    text = words
    if missing:
        text += f"; unmatched: {missing}"
    if extra:
        text += f"; {extra}"
    return text


def _print_matches(query: Query, matches: list[Match], lists: str) -> None:
    if not matches:
        # "no match" only means something together with what was looked at
        console.print(f"No listed entity matches [bold]{escape(query.name)}[/] at this threshold, "
                      f"in {escape(lists)}.", highlight=False)
        return
    table = DataTable(title=f"Matches for {query.name}", show_lines=True)
    for column in ("score", "source", "reference", "listed name", "why", "list version"):
        table.add_column(column, overflow="fold")
    for m in matches:
        table.add_row(f"{m.score:.3f}", _source_cell(m), m.reference, m.name, _explain_line(m), m.list_version)
    console.print(table)


def _source_cell(match: Match) -> str:
    """The list, or for a partner hit whose entry it is and what its originator asks (handling codes)."""
    if match.shared is None:
        return match.source
    label = match.shared
    lines = [match.source, f"by {label.originator}", f"TLP:{label.tlp.upper()}", *label.handling]
    return "\n".join(lines)


@handles_errors
def screen(
    name: Annotated[str | None, typer.Argument(help="The name to screen (omit with --input).")] = None,
    birth_date: BirthDateOption = None,
    country: Annotated[list[str] | None, typer.Option(
        "--country", "-c", help="Nationality or country (name or ISO code); repeatable.")] = None,
    gender: Annotated[str | None, typer.Option(help="male or female.")] = None,
    schema: SchemaOption = "Person",
    id_number: Annotated[list[str] | None, typer.Option(
        "--id-number", help="Passport or ID number; repeatable.")] = None,
    threshold: ThresholdOption = None,
    limit: Annotated[int, typer.Option(
        "--limit", "-k", min=1, max=1000, help="At most this many matches per subject.")] = 10,
    input_path: Annotated[Path | None, typer.Option(
        "--input", "-i",
        help="CSV of subjects: id,name[,schema,birth_date,nationality,country,id_number,gender].")] = None,
    output_path: Annotated[Path | None, typer.Option(
        "--output", "-o", help="JSON-lines results (with --input). Re-running resumes.")] = None,
    restart: Annotated[bool, typer.Option(
        "--restart", help="With --input: start over instead of resuming.")] = False,
    engine_name: ScreeningEngineOption = ScreeningEngine.local,
    spark_master: ScreeningSparkMasterOption = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Screen a name, or a CSV of subjects, against the newest version of every loaded list.

    Every match gives the listed entity, its source and the source's reference, the list
    version, a score in 0..1 and why: which words matched which and how, and which of
    birth date, country, gender and document number counted. Exit code 0 also when
    matches are found; 7 for a bad query or input file; 9 when no list is loaded or a list
    is older than --max-list-age (never an empty "no match").
    """
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)
    if input_path is not None:
        if output_path is None:
            raise typer.BadParameter("--input needs --output", param_hint="--output")
        screener = screener_for(engine, threshold, max_list_age, stale_lists)
        member_id = member_for(engine, member).id    # a batch files its matches in this member's alerts queue
        spark = spark_screening(engine, screener, member_id, spark_master) if engine_name == ScreeningEngine.spark \
            else None
        summary = _run_batch(screener, input_path, output_path, threshold, limit, restart, not as_json, member_id,
                             spark, lambda found: file_alerts(engine, member_id, found))
        if as_json:
            print_json(summary)
        else:
            console.print(f"{summary.queries:,} subjects: {summary.screened:,} screened, {summary.skipped:,} "
                          f"already done, {summary.with_matches:,} with matches, {summary.errors:,} rejected "
                          f"→ {escape(str(output_path))}", highlight=False)
        return
    if name is None:
        raise typer.BadParameter("give a NAME or --input FILE", param_hint="NAME")
    query = Query(name=name, schema=schema, birth_date=birth_date, countries=tuple(country or ()), gender=gender,
                  id_numbers=tuple(id_number or ()))
    prepare(query)  # a bad query is reported before the index is built
    screener = screener_for(engine, threshold, max_list_age, stale_lists)
    matches = screener.screen(query, threshold=threshold, limit=limit, member_id=member_id)
    if as_json:
        print_json({"query": query, "threshold": screener.threshold if threshold is None else threshold,
                    "lists": screener.index.label, "matches": [match_record(m) for m in matches]})
    else:
        _print_matches(query, matches, screener.index.label)


def _run_batch(screener: Any, input_path: Path, output_path: Path, threshold: float | None, limit: int,
               restart: bool, show: bool, member_id: int | None, spark: SparkScreening | None,
               alerts: Callable[[list[NewAlert]], object]) -> Any:
    if spark is not None or not show or not err_console.is_terminal:
        return screen_file(screener, input_path, output_path, threshold, limit, restart, member_id=member_id,
                           spark=spark, alerts=alerts)
    with Progress(TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task("screening", total=None)
        return screen_file(screener, input_path, output_path, threshold, limit, restart,
                           progress=lambda done, total: progress.update(task, completed=done, total=total),
                           member_id=member_id, alerts=alerts)


@handles_errors
def compare(
    name_a: Annotated[str | None, typer.Argument(help="First name.")] = None,
    name_b: Annotated[str | None, typer.Argument(help="Second name.")] = None,
    schema: SchemaOption = "Person",
    pairs: Annotated[Path | None, typer.Option("--pairs", help="CSV with columns name1,name2[,schema].")] = None,
    output_path: Annotated[Path | None, typer.Option("--output", "-o", help="CSV of scores (with --pairs).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score two names against each other (0..1) and show how their words align.

    Word weights come from the loaded lists (a shared "Mohammed" proves less than a
    shared "Harzi"); with no lists loaded every word weighs the same.
    """
    engine = open_engine(db)
    screener = open_screener(engine, policy=None)
    if pairs is not None:
        out = output_path.open("w", encoding="utf-8", newline="") if output_path else sys.stdout
        try:
            _compare_pairs(screener, pairs, out)
        finally:
            if output_path:
                out.close()
        return
    if not name_a or not name_b:
        raise typer.BadParameter("give two names or --pairs FILE", param_hint="NAME_A NAME_B")
    for value in (name_a, name_b):
        prepare(Query(value, schema))
    score, explanation = screener.compare(name_a, name_b, schema)
    if as_json:
        print_json({"name1": name_a, "name2": name_b, "schema": schema, "score": score,
                    "explanation": explanation})
        return
    console.print(f"[bold]{score:.3f}[/]  {escape(name_a)}  ~  {escape(name_b)}", highlight=False)
    for w in explanation.words:
        console.print(f"  {escape(w.query)} → {escape(w.listed)}: {w.rule}, similarity {w.similarity:.2f}, "
                      f"weight {w.weight:.2f}", highlight=False)
    if explanation.unmatched_query or explanation.unmatched_listed:
        console.print(f"  unmatched: {escape(', '.join(explanation.unmatched_query + explanation.unmatched_listed))}",
                      highlight=False)


def _compare_pairs(screener: Any, pairs: Path, out: Any) -> None:
    try:
        handle = pairs.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise MessageFormatError(pairs, None, f"cannot read ({error.strerror})") from None
    writer = csvsafe.writer(out)
    writer.writerow(["name1", "name2", "schema", "score", "error"])
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"name1", "name2"} <= set(reader.fieldnames):
            raise MessageFormatError(pairs, "line 1", "needs columns name1,name2[,schema]")
        for row in reader:
            a, b = row.get("name1") or "", row.get("name2") or ""
            schema = (row.get("schema") or "").strip() or "Person"
            try:
                for value in (a, b):
                    prepare(Query(value, schema))
                score, _ = screener.compare(a, b, schema)
                writer.writerow([a, b, schema, f"{score:.4f}", ""])
            except QueryError as error:
                writer.writerow([a, b, schema, "", f"line {reader.line_num}: {error}"])


decisions_app = typer.Typer(
    help="Decisions on matches: a false positive stops that match alerting for the member; "
         "the same decisions as the service's /decisions.",
    no_args_is_help=True)


class Verdict(StrEnum):
    false_positive = "false_positive"
    true_positive = "true_positive"


@decisions_app.command("add")
@handles_errors
def decisions_add(
    name: Annotated[str, typer.Argument(help="The subject's name as screened.")],
    reference: Annotated[str, typer.Argument(help="The listed entity: the list's reference (QDi.354) or entity id.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why: kept with the decision.")],
    verdict: Annotated[Verdict, typer.Option(help="false_positive: the subject is not the listed entity "
                                                  "(the match stops alerting); true_positive: it is.")]
    = Verdict.false_positive,
    birth_date: BirthDateOption = None,
    schema: SchemaOption = "Person",
    source: Annotated[str | None, typer.Option(help="The list, when the reference is ambiguous.")] = None,
    user: UserOption = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a decision on a match, as the acting member (--member)."""
    engine = open_engine(db)
    acting = member_for(engine, member)
    query = prepare(Query(name, schema, birth_date=birth_date))
    decision = record_decision(engine, acting.id, user or default_user(), query.identity(), name,
                               query.birth_date, reference, source, verdict.value, reason)
    if as_json:
        print_json(decision)
    else:
        said = "is not" if decision.verdict == "false_positive" else "is"
        console.print(f"decision #{decision.id}: {escape(name)} {said} {escape(decision.source)} "
                      f"{escape(decision.reference)}", highlight=False)


@decisions_app.command("list")
@handles_errors
def decisions_list(member: MemberOption = LOCAL_MEMBER, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the acting member's decisions, oldest first."""
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)
    found = [] if member_id is None else list_decisions(engine, member_id)
    if as_json:
        print_json(found)
        return
    table = DataTable()
    for column in ("#", "subject", "born", "verdict", "listed", "reason", "by", "when"):
        table.add_column(column, overflow="fold")
    for d in found:
        table.add_row(str(d.id), d.query_name, d.query_birth_date or "", d.verdict, f"{d.source} {d.reference}",
                      d.reason, d.user, d.created_at.isoformat(timespec="seconds"))
    console.print(table)


@decisions_app.command("withdraw")
@handles_errors
def decisions_withdraw(decision_id: Annotated[int, typer.Argument(help="The decision's number (decisions list).")],
                       member: MemberOption = LOCAL_MEMBER, db: DbOption = None,
                       as_json: JsonOption = False) -> None:
    """Withdraw a decision (it is deleted): a false positive's match alerts again."""
    engine = open_engine(db)
    decision = withdraw_decision(engine, member_for(engine, member).id, decision_id)
    if as_json:
        print_json(decision)
    else:
        console.print(f"withdrew decision #{decision.id}")


COMMANDS: Commands = [("screen", screen), ("compare", compare), ("decisions", decisions_app)]
