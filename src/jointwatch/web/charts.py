"""Bar charts as SVG made on the server: the freeze register's totals without a chart library.

The console's CSP allows no inline style and no script from elsewhere, and a chart of a dozen
bars needs neither: the SVG is written here, every label escaped, colours given as classes
(console.css) so the page's contrast rules hold. Amounts are exact ``Decimal`` and one chart
holds one currency: bars in different currencies are never on one scale, nor ever added.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH = 440          # the viewBox: the SVG scales to its box, text with it
LABEL = 130          # the labels' column
BAR = 190            # the longest bar
ROW = 26
TOP = 8


@dataclass(frozen=True)
class Bar:
    """One bar: what it counts (a source, regime, country or member) and its exact amount."""

    label: str
    amount: Decimal


def money(amount: Decimal, currency: str) -> str:
    """An amount as a person reads it, exact to the cent: 1,234,567.89 EUR."""
    return f"{amount:,.2f} {currency}"


def _clip(text: str, chars: int = 18) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "…"


def bar_chart(title: str, currency: str, bars: list[Bar], chart_id: str) -> Markup:
    """A horizontal bar chart of ``bars`` in one ``currency``, longest bar the largest amount.

    The SVG is an image with a title and a description listing every bar (what a screen reader
    says); each bar's full label and amount are also its tooltip. ``chart_id`` must be unique in
    the page (it names the title and description)."""
    largest = max((b.amount for b in bars), default=Decimal(0))
    height = TOP * 2 + ROW * max(len(bars), 1)
    described = "; ".join(f"{b.label}: {money(b.amount, currency)}" for b in bars) or "nothing frozen"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
             f'<title id="{escape(chart_id)}-title">{escape(title)} ({escape(currency)})</title>',
             f'<desc id="{escape(chart_id)}-desc">{escape(described)}</desc>']
    for i, b in enumerate(bars):
        y = TOP + i * ROW
        # a bar's length is its share of the largest, drawn to a tenth of a unit: float only here
        length = float(b.amount / largest * BAR) if largest > 0 else 0.0
        label, amount = escape(b.label), escape(money(b.amount, currency))
        parts.append(f'<g class="bar" data-label="{label}" data-amount="{escape(str(b.amount))}">'
                     f'<title>{label}: {amount}</title>'
                     f'<text class="bar-label" x="{LABEL - 8}" y="{y + 17}" text-anchor="end">'
                     f'{escape(_clip(b.label))}</text>'
                     f'<rect class="bar-fill" x="{LABEL}" y="{y + 4}" width="{max(length, 1.0):.1f}" height="{ROW - 8}"'
                     f' rx="2"/>'
                     f'<text class="bar-amount" x="{LABEL + max(length, 1.0) + 6:.1f}" y="{y + 17}">{amount}</text>'
                     f'</g>')
    if not bars:
        parts.append(f'<text class="bar-label" x="{LABEL}" y="{TOP + 17}">nothing frozen</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every value above is escaped
