"""`jointwatch network …`: tracing who finances a designated group."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch import jsonout
from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    console,
    err_console,
    handles_errors,
    print_json,
    record_progress,
)
from jointwatch.cli.screening_options import MaxListAgeOption, StaleListsOption, screener_for
from jointwatch.errors import QueryError
from jointwatch.network import (
    CONFIGURATIONS,
    DEFAULT_TRAINING,
    DETECTORS,
    ENGINES,
    METHODS,
    Analysis,
    EngineSettings,
    Finding,
    Quality,
    RankedAccount,
    SimulationSettings,
    TraceSettings,
    analyse,
    default_rates,
    designated_accounts,
    detect_all,
    load_transactions,
    method_label,
    open_analysis_engine,
    rank_accounts,
    read_rates,
    require_traceable,
    simulate,
    simulate_laundering,
    train_on_configuration,
    train_on_folder,
)
from jointwatch.screening import DEFAULT_MAX_LIST_AGE_DAYS, OnStale

network_app = typer.Typer(help="Trace terrorist financing through transactions (DuckDB or Spark).",
                          no_args_is_help=True)

TransactionsArg = Annotated[Path, typer.Argument(
    help="Transactions: .csv or .parquet with id,timestamp,amount,currency,sender_account,receiver_account"
         "[,sender_name,receiver_name,sender_country,receiver_country,…] (docs/network.md).")]
EngineOption = Annotated[str, typer.Option("--engine", "-e", help=f"Where the SQL runs: {', '.join(ENGINES)}.")]
SparkMasterOption = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL (spark://host:7077, yarn, …). Default local[THREADS].")]
DriverRowsOption = Annotated[int | None, typer.Option(
    "--driver-rows", min=0, help="Spark: statements over tables of at most this many rows run in an embedded DuckDB "
                                 "in the driver (default 100,000; 0: every statement on Spark, for a small driver). "
                                 "The answers are the same either way.")]
MemoryOption = Annotated[str | None, typer.Option(
    "--memory-limit", help="DuckDB memory limit (e.g. 4GB; beyond it DuckDB spills to disk) or Spark driver "
                           "memory (e.g. 4g).")]
ThreadsOption = Annotated[int | None, typer.Option("--threads", min=1, help="Threads (DuckDB) or local cores (Spark).")]
TempOption = Annotated[Path | None, typer.Option(
    "--temp-dir", help="Where intermediate tables spill to disk: DuckDB's temp_directory, Spark's "
                       "spark.local.dir (a local disk of each machine). Default: a fresh temporary directory "
                       "(DuckDB), Spark's own (Spark).")]
RatesOption = Annotated[Path | None, typer.Option(
    "--rates", help="CSV code,usd_per_unit of conversion rates, over the built-in indicative ones.")]


def _engine_settings(memory: str | None, threads: int | None, temp: Path | None, master: str | None,
                     engine: str, driver_rows: int | None = None) -> EngineSettings:
    return EngineSettings(memory_limit=memory, threads=threads, spark_master=master,
                          temp_directory=str(temp) if temp else None, driver_rows=driver_rows)


@contextmanager
def _steps(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner naming the current step on a terminal; silent otherwise."""
    if not enabled or not err_console.is_terminal:
        yield lambda label: None
        return
    with err_console.status("starting") as status:
        yield lambda label: status.update(label)


@network_app.command("simulate")
@handles_errors
def network_simulate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write transactions, designated.txt and truth.json into.")],
    transactions: Annotated[int, typer.Option("--transactions", "-n", min=1000, help="How many transactions.")]
    = 100_000,
    networks: Annotated[int, typer.Option(min=1, max=50, help="Planted financing networks.")] = 3,
    donors: Annotated[int, typer.Option(min=1, help="Donors per network.")] = 40,
    countries: Annotated[int, typer.Option(min=1, max=50, help="Donors come from up to this many countries.")] = 40,
    days: Annotated[int, typer.Option(min=60, max=3650, help="Days of activity.")] = 180,
    seed: Annotated[int, typer.Option(help="Random seed: the same settings give the same files.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "parquet",
    dirty: Annotated[int, typer.Option(min=0, help="Bad rows to add (CSV only), to try the input checks.")] = 0,
    configuration: Annotated[str | None, typer.Option(
        "--configuration", help=f"Write the AMLSim-family simulation instead: salaried people, some laundering on "
                                f"the side, every typology planted ({', '.join(CONFIGURATIONS)}; docs/network.md). "
                                "Only --format applies.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a realistic synthetic transaction set with planted financing networks and its truth.

    Normal life (paydays, shopping with weekend and December peaks, transfers at home and
    abroad, shops paying suppliers) plus donors in many countries giving to collectors,
    directly or through a hawala-like broker pair, collectors forwarding to mules, mules
    paying the designated account in chunks under the reporting threshold, and a few
    round-tripping cycles. truth.json lists every planted donor with the USD it gave.
    """
    if configuration is not None:
        if configuration not in CONFIGURATIONS:
            raise typer.BadParameter(f"choose one of {', '.join(CONFIGURATIONS)}", param_hint="--configuration")
        summary = simulate_laundering(out_dir, CONFIGURATIONS[configuration], fmt)
        if as_json:
            print_json(summary)
        else:
            console.print(escape(f"{summary['rows']:,} transactions, {summary['typologies']} planted typologies, "
                                 f"{summary['illicit']} illicit accounts → {summary['transactions']}; truth → "
                                 f"{summary['truth']}"), highlight=False)
        return
    settings = SimulationSettings(transactions=transactions, networks=networks, donors=donors, countries=countries,
                                  days=days, seed=seed, dirty=dirty)
    with record_progress("simulating", not as_json) as progress:
        summary = simulate(out_dir, settings, fmt, progress)
    if as_json:
        print_json(summary)
    else:
        console.print(escape(f"{summary['rows']:,} transactions → {summary['transactions']}; designated accounts → "
                             f"{summary['designated']}; truth → {summary['truth']}"), highlight=False)


@network_app.command("trace")
@handles_errors
def network_trace(
    transactions: TransactionsArg,
    designated: Annotated[list[str] | None, typer.Option(
        "--designated", "-d", help="Designated account ids (comma-separated or repeated) or a file of them, one "
                                   "a line (@file or a path).")] = None,
    screen: Annotated[bool, typer.Option(
        "--screen", help="Also designate accounts whose holder name matches the register (screening store --db); "
                         "the match, score and explanation are kept.")] = False,
    screen_threshold: Annotated[float | None, typer.Option(
        "--screen-threshold", min=0.0, max=1.0, help="Screening threshold for --screen (default: screening's).")]
    = None,
    hops: Annotated[int, typer.Option("--hops", min=1, max=12, help="How many payments upstream to follow.")] = 4,
    lookback_days: Annotated[float, typer.Option(
        "--lookback-days", help="Conduit test window: inflows this many days before a payment.")] = 7.0,
    conduit_share: Annotated[float, typer.Option(
        "--conduit-share", min=0.0, max=1.0, help="Conduit test share s (docs/network.md, Attribution).")] = 0.5,
    method: Annotated[str, typer.Option(
        "--method", help=f"Which inflows an outflow spent: {', '.join(METHODS)} (first in first out, last in first "
                         "out, proportional haircut; docs/network.md, Attribution methods).")] = "fifo",
    own_funds_days: Annotated[float, typer.Option(
        "--own-funds-days", min=0.0, help="Money an account paid beyond what it received counts as its own only with "
                                          "this many days of history before the payment (else unexplained_funds).")]
    = 30.0,
    earmark_days: Annotated[float, typer.Option(
        "--earmark-days", min=0.0, max=366.0,
        help="Earmarking: money a conduit got from a payer that is not a regular one and passed on within this many "
             "days to a payee that is not a regular one is that inflow passed on, before its own funds or salary "
             "(docs/network.md, Earmarking); with every method; 0: off.")] = 0.0,
    intervals: Annotated[bool, typer.Option(
        "--intervals/--no-intervals", help="Also trace by the other methods and give every country total and "
                                           "originator amount between their lowest and highest.")] = True,
    since: Annotated[str | None, typer.Option(help="Payments into designated accounts from (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="… up to and including (YYYY-MM-DD).")] = None,
    min_amount: Annotated[float, typer.Option(
        "--min-amount", min=0.0, help="List originators from this many USD (the rest is counted).")] = 0.0,
    typologies: Annotated[bool, typer.Option(
        "--typologies/--no-typologies", help="Also run the typology detectors.")] = True,
    ranking: Annotated[bool, typer.Option(
        "--ranking/--no-ranking", help="Also rank the accounts by suspicion (gradient boosting trained on the "
                                       "simulator; the ranking extra; docs/network.md, Ranking).")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", "-r", help="Write an HTML report here (graph, map, tables) and the JSON beside it.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the full result as JSON here.")]
    = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    driver_rows: DriverRowsOption = None,
    memory_limit: MemoryOption = None,
    threads: ThreadsOption = None,
    temp_dir: TempOption = None,
    rates: RatesOption = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Trace who funded the designated accounts: originators, countries, intermediaries and paths.

    Money is followed upstream payment by payment, by --method (first in first out, last in
    first out or proportional; every figure also between the lowest and highest of the three),
    through accounts that behave as conduits; every USD that reached a designated account is credited to an
    originator (docs/network.md states the rule). Bad input rows are counted with examples,
    never dropped silently. Exit code 7 for a bad transaction file or nothing to trace, 10 for
    --engine spark without the spark extra (docs/network.md, Engines).
    """
    if method not in METHODS:
        raise typer.BadParameter(f"choose one of {', '.join(METHODS)}", param_hint="--method")
    settings = TraceSettings(hops=hops, lookback_days=lookback_days, since=since, until=until,
                             min_amount=min_amount, conduit_share=conduit_share, method=method,
                             own_funds_days=own_funds_days, intervals=intervals, earmark_days=earmark_days)
    targets = designated_accounts(designated or [])
    if not targets and not screen:
        raise typer.BadParameter("give --designated accounts or --screen", param_hint="--designated")
    rate_table = read_rates(rates) if rates else default_rates()
    screener = None
    if screen:
        from jointwatch.store import open_engine  # noqa: PLC0415

        store = open_engine(db)
        screener = screener_for(store, screen_threshold, max_list_age, stale_lists)
    engine_settings = _engine_settings(memory_limit, threads, temp_dir, spark_master, engine, driver_rows)
    with _steps(not as_json) as step:
        analysis = analyse(transactions, targets, settings, engine_name=engine, engine_settings=engine_settings,
                           rates=rate_table, screener=screener, screen_threshold=screen_threshold,
                           typologies=typologies, ranking=ranking, step=step)
    if output:
        output.write_text(jsonout.dumps(analysis.to_dict(), indent=2), encoding="utf-8")
    if report:
        from jointwatch.network import write_report  # noqa: PLC0415

        write_report(analysis, report, report.with_suffix(".json"))
    if as_json:
        print_json(analysis.to_dict())
        return
    _print_trace(analysis, report)


def _print_trace(analysis: Analysis, report: Path | None) -> None:
    trace, totals = analysis.trace, analysis.trace.totals
    method = method_label(trace.method, trace.settings.earmark_days)
    _print_quality(analysis.quality)
    missing = int(totals.get("designated_not_in_data", 0))
    if missing:
        err_console.print(f"[yellow]warning:[/] {missing} of the {missing + len(trace.designated)} designated "
                          "accounts do not occur in the transactions: not traced", highlight=False)
    console.print(f"[bold]{totals['traced']:,.2f} USD[/] reached {len(trace.designated)} designated accounts in "
                  f"{int(totals['payments_in']):,} payments; {len(trace.originators):,} originators in "
                  f"[bold]{len(trace.countries)} countries[/] ({method}; {analysis.trace.engine}, "
                  f"{analysis.seconds.get('total', 0):.1f} s).", highlight=False)
    others = trace.intervals.get("methods", [])[1:]
    between = f"between: lowest – highest of {', '.join([trace.method, *others])}" if others else ""
    if totals.get("assumed"):
        console.print(f"{totals['assumed']:,.2f} USD of it rests on the assumption that an account paid with its "
                      "own money (more than it received; docs/network.md).", highlight=False)
    table = DataTable(title=f"Funding by country — {method}" + (f" ({between})" if between else ""))
    columns = ["country", f"USD ({trace.method})", *(["between"] if others else []), "of it assumed",
               "originators", "payments"]
    for column in columns:
        table.add_column(column, justify="right" if column != "country" else "left")
    for c in trace.countries[:40]:
        table.add_row(c.country.upper(), f"{c.amount:,.2f}", *([_between(c.low, c.high)] if others else []),
                      f"{c.assumed:,.2f}", str(c.originators), str(c.transactions))
    console.print(table)
    elsewhere = trace.intervals.get("countries") or {}
    if elsewhere:
        console.print("Only another method credits: " + "; ".join(
            f"{country.upper()} {_between(low, high)}" for country, (low, high) in elsewhere.items()), highlight=False)
    table = DataTable(title=f"Top originators — {method}")
    for column in ("account", "holder", "country", f"USD ({trace.method})", *(["between"] if others else []),
                   "hops", "why"):
        table.add_column(column)
    for o in trace.originators[:20]:
        table.add_row(o.account, o.name or "", o.country.upper(), f"{o.amount:,.2f}",
                      *([_between(o.low, o.high)] if others else []), str(o.hops), o.reason)
    console.print(table)
    if analysis.typologies:
        _print_findings(analysis.typologies, limit=30)
    if analysis.ranking:
        _print_ranking(analysis.ranking[:20], analysis.ranking_model)
    if report:
        console.print(escape(f"report → {report} (JSON → {report.with_suffix('.json')})"), highlight=False)


def _between(low: float, high: float) -> str:
    return f"{low:,.2f}" if low == high else f"{low:,.2f} – {high:,.2f}"


def _print_quality(quality: Quality) -> None:
    if not quality.issues:
        console.print(f"{quality.rows:,} rows read, all usable.", highlight=False)
        return
    table = DataTable(title=f"{quality.path}: {quality.rows:,} rows, {quality.excluded_rows:,} left out of the trace")
    for column in ("problem", "rows", "left out", "examples (row: id)"):
        table.add_column(column)
    for i in quality.issues:
        table.add_row(i.kind, f"{i.count:,}", "yes" if i.excluded else "no",
                      "; ".join(f"{e['row']}: {e.get('id')}" for e in i.examples[:3]))
    console.print(table)


def _print_findings(findings: list[Finding], limit: int) -> None:
    table = DataTable(title=f"Typology findings ({len(findings)})")
    for column in ("typology", "accounts", "figures"):
        table.add_column(column, overflow="fold")
    for f in findings[:limit]:
        table.add_row(f.typology, ", ".join(f.accounts) or str(f.figures.get("corridor", "")),
                      ", ".join(f"{k}={v}" for k, v in f.figures.items() if k != "corridor"))
    console.print(table)


@network_app.command("typologies")
@handles_errors
def network_typologies(
    transactions: TransactionsArg,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help=f"Run only these detectors: {', '.join(d.name for d in DETECTORS)}.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the findings as JSON here.")] = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    driver_rows: DriverRowsOption = None,
    memory_limit: MemoryOption = None,
    threads: ThreadsOption = None,
    temp_dir: TempOption = None,
    rates: RatesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the typology detectors over all transactions: cycles, hawala-like broker netting, scatter-gather,
    gather-scatter, bipartite, fan-in, fan-out, stacks (layering), pass-through, structuring, new corridors.

    Each rule judges an account against its own history and its peers (docs/network.md, Typologies);
    each finding gives its rule, figures and transactions."""
    names = tuple(n.strip() for value in only or [] for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in {d.name for d in DETECTORS}]
    if unknown:
        raise typer.BadParameter(f"unknown detector(s) {', '.join(unknown)}", param_hint="--only")
    rate_table = read_rates(rates) if rates else default_rates()
    eng = open_analysis_engine(engine, _engine_settings(memory_limit, threads, temp_dir, spark_master, engine,
                                                        driver_rows))
    try:
        with _steps(not as_json) as step:
            step("loading and checking transactions")
            quality = require_traceable(load_transactions(eng, transactions, rate_table))
            findings = detect_all(eng, names or None, lambda n: step(f"detector {n}"))
    finally:
        eng.close()
    data: dict[str, Any] = {"quality": asdict(quality), "findings": [asdict(f) for f in findings]}
    if output:
        output.write_text(jsonout.dumps(data, indent=2), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    _print_quality(quality)
    _print_findings(findings, limit=200)


def _print_ranking(ranked: list[RankedAccount], trained_on: str | None) -> None:
    table = DataTable(title=f"Accounts ranked by suspicion (trained on {trained_on})")
    for column in ("rank", "account", "holder", "country", "score", "rules that flag it"):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for r in ranked:
        table.add_row(str(r.rank), r.account, r.name or "", (r.country or "").upper(), f"{r.score:.3f}",
                      ", ".join(r.rules))
    console.print(table)


@network_app.command("rank")
@handles_errors
def network_rank(
    transactions: TransactionsArg,
    train_on: Annotated[str, typer.Option(
        "--train-on", help=f"What the model learns from: a simulator configuration ({', '.join(CONFIGURATIONS)}) "
                           "or a folder with transactions.parquet (or .csv) and truth.json listing "
                           "illicit_accounts.")] = DEFAULT_TRAINING,
    top: Annotated[int, typer.Option("--top", min=1, help="How many accounts to list.")] = 100,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the ranking as JSON here.")] = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    driver_rows: DriverRowsOption = None,
    memory_limit: MemoryOption = None,
    threads: ThreadsOption = None,
    temp_dir: TempOption = None,
    rates: RatesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank accounts by suspicion: gradient boosting over graph features computed in SQL (degrees, new
    counterparties per span against the account's own history, pass-through, cycles, new corridors).

    The model is trained on --train-on (by default the AMLSim-family simulator's configuration a) and
    scores the accounts of TRANSACTIONS; each listed account shows the typology rules that flag it.
    Exit code 10 without the ranking extra (scikit-learn).
    """
    with _steps(not as_json) as step:
        step("training the model")
        model = train_on_configuration(train_on) if train_on in CONFIGURATIONS else train_on_folder(Path(train_on))
        rate_table = read_rates(rates) if rates else default_rates()
        eng = open_analysis_engine(engine, _engine_settings(memory_limit, threads, temp_dir, spark_master, engine,
                                                        driver_rows))
        try:
            step("loading and checking transactions")
            quality = require_traceable(load_transactions(eng, transactions, rate_table))
            step("typology rules and graph features")
            findings = detect_all(eng)
            ranked = rank_accounts(eng, model, findings, top)
        finally:
            eng.close()
    data: dict[str, Any] = {"trained_on": model.trained_on, "training_accounts": model.accounts,
                            "training_illicit": model.illicit, "ranking": [asdict(r) for r in ranked]}
    if output:
        output.write_text(jsonout.dumps(data, indent=2), encoding="utf-8")
    if as_json:
        print_json(data)
        return
    _print_quality(quality)
    _print_ranking(ranked, model.trained_on)


@network_app.command("check")
@handles_errors
def network_check(
    transactions: TransactionsArg,
    rates: RatesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a transaction file: every problem with its count, rule and example rows (DuckDB)."""
    rate_table = read_rates(rates) if rates else default_rates()
    eng = open_analysis_engine("duckdb")
    try:
        quality = load_transactions(eng, transactions, rate_table)
    finally:
        eng.close()
    if as_json:
        print_json(quality)
    else:
        _print_quality(quality)
    if quality.traced_rows == 0:
        raise typer.Exit(QueryError.exit_code)


COMMANDS: Commands = [("network", network_app)]
