"""The HTML report of a trace: a flow graph, a world map of funding by country, and the tables.

One self-contained file that opens without a server or a network: the graph is drawn by
cytoscape.js, vendored in the package (``web/static/cytoscape``, as the console uses it) and
written into the page with ``report_graph.js``; the map is the world SVG shipped by the
pygal_maps_world package, its countries filled by amount. A large trace's graph opens grouped by
distance and country (``flow_groups``), so no column piles up; the groups expand on click.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jointwatch import jsonout
from jointwatch.htmlsafe import script_json
from jointwatch.network.analysis import Analysis
from jointwatch.network.result import TraceResult
from jointwatch.network.schema import BASE_CURRENCY, method_label

MAX_NODES = 150
ROLE_COLOURS = {"originator": "#2b8cbe", "collector": "#e6550d", "broker": "#756bb1", "pass-through": "#fd8d3c",
                "intermediary": "#969696", "designated": "#de2d26"}


def write_report(analysis: Analysis, html_path: Path, json_path: Path | None = None) -> None:
    """Write the HTML report (and the JSON beside it, when asked)."""
    if json_path is not None:
        json_path.write_text(jsonout.dumps(analysis.to_dict(), indent=2),
                             encoding="utf-8")
    html_path.write_text(render(analysis), encoding="utf-8")


def render(analysis: Analysis) -> str:
    """The report as one HTML document."""
    trace = analysis.trace
    graph = flow_groups(trace)
    method = method_label(trace.method, trace.settings.earmark_days)
    between = "between (" + ", ".join(trace.intervals.get("methods") or [trace.method]) + ")"
    parts = [
        f"<h1>Funding of designated accounts: {len(trace.designated)} traced</h1>",
        _summary(analysis),
        "<h2>Flow graph</h2><p>Money flows left to right into the designated accounts (red); each column is one "
        "distance in payments from them; links are labelled with the traced USD. "
        + ("The trace is large: accounts other than designated accounts, collectors and brokers are grouped by "
           "distance and country (framed boxes, with their number of accounts and the USD they originated); click "
           "a group to expand it into its accounts. " if graph["grouped"] else "")
        + "Click an account or a link for its figures; scroll to zoom, drag to pan.</p>"
        "<p><button type='button' id='flow-group-all'>Group by distance and country</button> "
        "<button type='button' id='flow-expand-all'>Show every account</button></p>"
        "<div id='flow-graph' class='graph'></div><div id='flow-details' class='details' aria-live='polite'>"
        "<p>Click a node or a link for its figures.</p></div>",
        f"<h2>Funding by country ({html.escape(method)})</h2><div id='funding-map' class='map'>"
        + world_map(trace) + "</div>",
        _table(f"Countries ({method})", ["country", f"{BASE_CURRENCY} ({trace.method})", between, "of it assumed",
                                          "originators", "payments"],
               [[c.country.upper(), _usd(c.amount), _span(c.low, c.high), _usd(c.assumed), c.originators,
                 c.transactions] for c in trace.countries]
               + [[code.upper(), _usd(0.0), _span(low, high), _usd(0.0), 0, 0]
                  for code, (low, high) in (trace.intervals.get("countries") or {}).items()]),
        _table(f"Originators ({method})", ["account", "holder", "country", f"{BASE_CURRENCY} ({trace.method})",
                                           between, "payments", "hops", "why"],
               [[o.account, o.name or "", o.country.upper(), _usd(o.amount), _span(o.low, o.high), o.transactions,
                 o.hops, o.reason] for o in trace.originators[:500]]),
        _table("Intermediaries", ["account", "holder", "country", "role", "in USD", "out USD", "senders", "why"],
               [[i.account, i.name or "", i.country.upper(), i.role, _usd(i.traced_in), _usd(i.traced_out),
                 i.senders, i.why] for i in trace.intermediaries[:500]]),
        _table("Heaviest paths", ["originator", "country", BASE_CURRENCY, "accounts"],
               [[p["originator"], p["country"].upper(), _usd(p["amount"]), " → ".join(p["accounts"])]
                for p in trace.paths]),
        _table("Typology findings", ["typology", "accounts", "figures", "transactions", "rule"],
               [[f.typology, ", ".join(f.accounts) or f.figures.get("corridor", ""),
                 ", ".join(f"{k}={v}" for k, v in f.figures.items()), ", ".join(f.transactions), f.rule]
                for f in analysis.typologies]),
        *([_table(f"Accounts ranked by suspicion (gradient boosting over graph features, trained on "
                  f"{analysis.ranking_model})", ["rank", "account", "holder", "country", "score", "rules that flag it"],
                  [[r.rank, r.account, r.name or "", (r.country or "").upper(), f"{r.score:.3f}", ", ".join(r.rules)]
                   for r in analysis.ranking])] if analysis.ranking else []),
        _table("Account holders matched to the register", ["account", "holder", "listed name", "source", "reference",
                                                             "score", "list version"],
               [[m.account, m.holder, m.listed_name, m.source, m.reference, f"{m.score:.3f}", m.list_version]
                for m in analysis.holder_matches]),
        _table("Input problems", ["kind", "rows", "left out of the trace", "examples (row: id)", "rule"],
               [[i.kind, i.count, "yes" if i.excluded else "no",
                 "; ".join(f"{e['row']}: {e.get('id')}" for e in i.examples), i.rule]
                for i in analysis.quality.issues]),
    ]
    data = script_json(graph)  # account ids and names are the file writer's: never raw in <script>
    cytoscape = CYTOSCAPE.read_text(encoding="utf-8")
    script = GRAPH_SCRIPT.read_text(encoding="utf-8")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>jointwatch network trace</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }}
.graph {{ width: 100%; height: 760px; border: 1px solid #ddd; }}
.map svg {{ width: 100%; max-width: 1100px; height: auto; background: #eef5fb; }}
.map .country {{ fill: #e0e0e0; stroke: #fff; stroke-width: 0.4; }}
.legend span {{ display: inline-block; padding: 0 0.6em; margin-right: 0.3em; color: #fff; }}
.details {{ min-height: 3em; font-size: 0.9em; }} .details p {{ margin: 0.2em 0; }}
</style>
<script>{cytoscape}</script></head><body>
{''.join(parts)}
<script type="application/json" id="flow-data">{data}</script>
<script>{script}</script>
</body></html>"""


def _graph_accounts(trace: TraceResult) -> tuple[set[str], dict[str, float], dict[str, str], dict[str, int]]:
    """The accounts a graph shows (the designated ones and the ``MAX_NODES`` heaviest), the traced
    USD through each, their roles and their distance in payments from a designated account."""
    roles = {i.account: i.role for i in trace.intermediaries}
    amounts: dict[str, float] = {}
    for e in trace.edges:
        amounts[e.src] = amounts.get(e.src, 0.0) + e.amount
        amounts[e.dst] = amounts.get(e.dst, 0.0) + e.amount
    keep = set(trace.designated) | set(sorted(amounts, key=lambda a: -amounts[a])[:MAX_NODES])
    level: dict[str, int] = {a: 0 for a in trace.designated}
    for e in sorted(trace.edges, key=lambda e: e.hop):
        level.setdefault(e.src, e.hop + 1)
    return keep, amounts, roles, level


def flow_graph(trace: TraceResult) -> dict[str, Any]:
    """The flow graph as plain data (the console draws it with cytoscape.js): the same accounts as
    the report's figure, each with holder, country, role, traced USD and its distance in payments
    from a designated account; the traced links between them with USD, payments and hop."""
    keep, amounts, roles, level = _graph_accounts(trace)
    names = {o.account: (o.name, o.country) for o in trace.originators}
    names.update({i.account: (i.name, i.country) for i in trace.intermediaries})
    nodes = [{"id": a, "name": names.get(a, (None, None))[0] or "", "country": names.get(a, (None, "??"))[1] or "??",
              "role": roles.get(a, "originator"), "amount": round(amounts.get(a, 0.0), 2), "level": level.get(a, 1)}
             for a in sorted(keep, key=lambda a: (level.get(a, 1), -amounts.get(a, 0.0), a))]
    edges = [{"source": e.src, "target": e.dst, "amount": e.amount, "payments": e.payments, "hop": e.hop}
             for e in trace.edges if e.src in keep and e.dst in keep]
    return {"nodes": nodes, "edges": edges, "designated": list(trace.designated),
            "shown": len(nodes), "accounts": len(amounts)}


GROUP_ABOVE = 40            # more accounts than this: the graph opens grouped by hop and country
SINGLE_ROLES = ("designated", "collector", "broker")  # always drawn as themselves, never grouped
CYTOSCAPE = Path(__file__).resolve().parents[1] / "web" / "static" / "cytoscape" / "cytoscape.min.js"
GRAPH_SCRIPT = Path(__file__).resolve().parent / "report_graph.js"


def flow_groups(trace: TraceResult) -> dict[str, Any]:
    """The report's flow graph as plain data: every account of the trace with its distance in
    payments from a designated account (``level``), the USD it originated (as the originators
    table credits it) and the traced USD in and out; the groups (one per level and country) that
    originators fall into (and the other accounts money passed through, where a level holds many:
    never designated accounts, collectors or brokers); and the traced
    links between accounts with USD and payments. ``grouped`` says whether the graph opens by
    group (more than ``GROUP_ABOVE`` accounts) or account by account."""
    names = {o.account: (o.name, o.country) for o in trace.originators}
    names.update({i.account: (i.name, i.country) for i in trace.intermediaries})
    roles = {i.account: i.role for i in trace.intermediaries}
    originated = {o.account: o.amount for o in trace.originators}
    level: dict[str, int] = {a: 0 for a in trace.designated}
    traced_in: dict[str, float] = {}
    traced_out: dict[str, float] = {}
    for e in sorted(trace.edges, key=lambda e: e.hop):
        level.setdefault(e.src, e.hop + 1)
        traced_out[e.src] = traced_out.get(e.src, 0.0) + e.amount
        traced_in[e.dst] = traced_in.get(e.dst, 0.0) + e.amount
    for o in trace.originators:  # one whose links fell outside the edge list still counts
        level.setdefault(o.account, o.hops)
    accounts = set(level) | set(traced_in)
    rows: list[dict[str, Any]] = []
    for a in accounts:
        holder, country = names.get(a, (None, None))
        rows.append({"id": a, "name": holder or "", "country": (country or "??").lower(),
                     "role": roles.get(a, "originator"), "level": level.get(a, 1),
                     "originated": round(originated.get(a, 0.0), 2), "in": round(traced_in.get(a, 0.0), 2),
                     "out": round(traced_out.get(a, 0.0), 2)})
    # originators are grouped; the accounts money passed through are too, but only at a distance
    # where more than GROUP_ABOVE / 2 of them would otherwise stand in one column
    passing: dict[int, int] = {}
    for r in rows:
        if r["role"] not in SINGLE_ROLES and r["role"] != "originator":
            passing[r["level"]] = passing.get(r["level"], 0) + 1
    members: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["role"] == "originator":
            members.setdefault((r["level"], r["country"], "o"), []).append(r)
        elif r["role"] not in SINGLE_ROLES and passing[r["level"]] > GROUP_ABOVE // 2:
            members.setdefault((r["level"], r["country"], "i"), []).append(r)
    groups = []
    for (lvl, country, kind), inside in sorted(members.items()):
        if len(inside) < 2:
            continue
        key = f"g{lvl}-{country}-{kind}"
        for r in inside:
            r["group"] = key
        kinds = {r["role"] for r in inside}
        groups.append({"id": key, "level": lvl, "country": country, "accounts": len(inside),
                       "originators": sum(1 for r in inside if r["originated"] > 0),
                       "role": kinds.pop() if len(kinds) == 1 else "intermediary",
                       "originated": round(sum(r["originated"] for r in inside), 2),
                       "in": round(sum(r["in"] for r in inside), 2), "out": round(sum(r["out"] for r in inside), 2)})
    rows.sort(key=lambda r: (r["level"], -(r["originated"] + r["in"]), r["id"]))
    links = [{"source": e.src, "target": e.dst, "amount": e.amount, "payments": e.payments} for e in trace.edges]
    return {"accounts": rows, "groups": groups, "links": links, "designated": list(trace.designated),
            "grouped": len(rows) > GROUP_ABOVE, "colours": ROLE_COLOURS,
            "method": method_label(trace.method, trace.settings.earmark_days)}


def world_map(trace: TraceResult, inline_style: bool = True) -> str:
    """The world as an SVG, each country filled by the USD its originators sent. ``inline_style=False``
    fills with SVG presentation attributes instead of style="": the console's CSP forbids inline styles
    (and its stylesheet must then leave funded countries' fill alone)."""
    import pygal_maps_world  # noqa: PLC0415

    svg = (Path(pygal_maps_world.__file__).parent / "worldmap.svg").read_text(encoding="utf-8")
    totals = {c.country: c for c in trace.countries}
    top = max((c.amount for c in trace.countries), default=1.0) or 1.0

    def fill(match: re.Match[str]) -> str:
        code = match.group(1)
        c = totals.get(code)
        if c is None:
            return match.group(0)
        shade = 0.15 + 0.85 * c.amount / top
        colour = f"rgb({int(254 - 75 * shade)},{int(232 - 232 * shade)},{int(200 - 200 * shade)})"
        title = (f"{code.upper()}: {c.amount:,.2f} USD ({method_label(c.method, trace.settings.earmark_days)}; between "
                 f"{_span(c.low, c.high)} by the methods) from {c.originators} originators, {c.transactions} payments")
        paint = f'style="fill:{colour}"' if inline_style else f'fill="{colour}"'
        return (f'<g class="{code} country map-element funded" data-usd="{c.amount:.2f}" {paint}>'
                f"<title>{html.escape(title)}</title>")

    svg = re.sub(r'<g class="([a-z]{2}) country map-element">', fill, svg)
    found = sum(1 for c in trace.countries if c.country != "??")
    return (svg + f"<p class='legend'>{found} countries; darker = more money. Hover a country for its figures."
            + ("" if "??" not in totals else f" Unknown country: {totals['??'].amount:,.2f} USD.") + "</p>")


def _summary(analysis: Analysis) -> str:
    t, s, q = analysis.trace.totals, analysis.trace.settings, analysis.quality
    rows = [["source", analysis.source], ["engine", analysis.trace.engine],
            ["designated accounts", ", ".join(analysis.trace.designated[:20])],
            ["rule", f"{method_label(s.method, s.earmark_days)}; {s.hops} hops; lookback {s.lookback_days:g} days; "
                     f"conduit share {s.conduit_share:g}; min amount {s.min_amount:g} USD"],
            ["traced into designated accounts", f"{_usd(t['traced'])} USD in {int(t['payments_in'])} payments"],
            ["attributed to originators", f"{_usd(t['originated'])} USD; pruned {_usd(t['pruned'])}; "
                                          f"below min amount {_usd(t['below_min_amount'])}"],
            ["of it assumed", f"{_usd(t.get('assumed', 0.0))} USD rests on the assumption that an account paid "
                              "with its own money (more than it received)"],
            ["originators / countries", f"{len(analysis.trace.originators)} / {len(analysis.trace.countries)}"],
            ["input rows", f"{q.rows:,} read, {q.traced_rows:,} traced, {q.excluded_rows:,} left out (see below)"],
            ["seconds", ", ".join(f"{k} {v}" for k, v in analysis.seconds.items())]]
    legend = "".join(f"<span style='background:{c}'>{r}</span>" for r, c in ROLE_COLOURS.items())
    return _table("", ["", ""], rows) + f"<p class='legend'>{legend}</p>"


def _table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    caption = f"<h2>{html.escape(title)}</h2>" if title else ""
    return caption + (f"<table><tr>{head}</tr>{body}</table>" if rows else "<p>None.</p>")


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _span(low: float, high: float) -> str:
    return f"{low:,.2f} – {high:,.2f}"


__all__ = ["asdict", "flow_graph", "flow_groups", "render", "world_map", "write_report"]
