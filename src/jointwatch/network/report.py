"""The HTML report of a trace: a flow graph, a world map of funding by country, and the tables.

One self-contained file that opens without a server or a network: the graph is drawn by
plotly.js, read from the plotly Python package and written into the page; the map is the
world SVG shipped by the pygal_maps_world package, its countries filled by amount.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jointwatch import jsonout
from jointwatch.htmlsafe import script_json
from jointwatch.network.analysis import Analysis
from jointwatch.network.result import TraceResult
from jointwatch.network.schema import BASE_CURRENCY, METHOD_NAMES

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
    from plotly.offline import get_plotlyjs  # noqa: PLC0415 - the report is the only user of plotly

    trace = analysis.trace
    graph = flow_figure(trace)
    method = METHOD_NAMES.get(trace.method, trace.method)
    between = "between (" + ", ".join(trace.intervals.get("methods") or [trace.method]) + ")"
    parts = [
        f"<h1>Funding of designated accounts: {len(trace.designated)} traced</h1>",
        _summary(analysis),
        "<h2>Flow graph</h2><p>Money flows left to right into the designated accounts (red). Node size: "
        "traced amount; hover for figures; drag to zoom.</p><div id='flow-graph' class='graph'></div>",
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
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>jointwatch network trace</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }}
.graph {{ width: 100%; height: 640px; border: 1px solid #ddd; }}
.map svg {{ width: 100%; max-width: 1100px; height: auto; background: #eef5fb; }}
.map .country {{ fill: #e0e0e0; stroke: #fff; stroke-width: 0.4; }}
.legend span {{ display: inline-block; padding: 0 0.6em; margin-right: 0.3em; color: #fff; }}
</style>
<script>{get_plotlyjs()}</script></head><body>
{''.join(parts)}
<script>
const figure = {data};
Plotly.newPlot('flow-graph', figure.data, figure.layout, {{responsive: true, displaylogo: false}});
</script>
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


def flow_figure(trace: TraceResult) -> dict[str, Any]:
    """A plotly figure: accounts placed by their distance from the designated accounts."""
    keep, amounts, roles, level = _graph_accounts(trace)
    columns: dict[int, list[str]] = {}
    for account in sorted(keep, key=lambda a: (-amounts.get(a, 0.0), a)):
        columns.setdefault(level.get(account, 1), []).append(account)
    # each column spread over the same height, heaviest accounts in the middle rows first
    position = {a: (-lvl, (k - (len(accts) - 1) / 2) / max(len(accts), 1)) for lvl, accts in columns.items()
                for k, a in enumerate(accts)}
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for e in trace.edges:
        if e.src in position and e.dst in position:
            edge_x += [position[e.src][0], position[e.dst][0], None]
            edge_y += [position[e.src][1], position[e.dst][1], None]
    names = {o.account: (o.name, o.country) for o in trace.originators}
    names.update({i.account: (i.name, i.country) for i in trace.intermediaries})
    nodes = sorted(position)
    role = [roles.get(a, "originator") for a in nodes]
    text = []
    for a in nodes:
        holder, country = names.get(a, (None, None))
        # plotly reads hover text as HTML-like markup and shows entities as characters
        text.append(f"{html.escape(a)}<br>{html.escape(holder or '')} ({(country or '??').upper()})"
                    f"<br>{roles.get(a, 'originator')}: {amounts.get(a, 0.0):,.2f} USD")
    return {"data": [
        {"type": "scatter", "mode": "lines", "x": edge_x, "y": edge_y, "hoverinfo": "skip",
         "line": {"width": 0.6, "color": "#999"}, "name": "payments"},
        {"type": "scatter", "mode": "markers", "x": [position[a][0] for a in nodes],
         "y": [position[a][1] for a in nodes], "text": text, "hoverinfo": "text", "name": "accounts",
         "marker": {"size": [6 + 4 * math.log10(1 + amounts.get(a, 0.0)) for a in nodes],
                    "color": [ROLE_COLOURS.get(r, "#2b8cbe") for r in role], "line": {"width": 0.5, "color": "#333"}}},
    ], "layout": {"showlegend": False, "hovermode": "closest", "margin": {"l": 10, "r": 10, "t": 10, "b": 30},
                  "xaxis": {"title": {"text": "payments away from the designated accounts"}, "zeroline": False,
                            "tickvals": sorted({-lvl for lvl in columns}),
                            "ticktext": [str(lvl) for lvl in sorted(columns, reverse=True)]},
                  "yaxis": {"visible": False}}}


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
        title = (f"{code.upper()}: {c.amount:,.2f} USD ({METHOD_NAMES.get(c.method, c.method)}; between "
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
            ["rule", f"{METHOD_NAMES.get(s.method, s.method)}; {s.hops} hops; lookback {s.lookback_days:g} days; "
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


__all__ = ["asdict", "flow_figure", "flow_graph", "render", "world_map", "write_report"]
