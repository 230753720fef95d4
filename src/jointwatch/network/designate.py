"""Which accounts are designated: given by the analyst, read from a file, or found by screening holders.

Screening goes through the one screening engine (``jointwatch.screening``): every distinct
holder name in the transactions is screened against the register, and an account whose
holder matches at or above the threshold is designated, with the match, its score and
its explanation kept for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jointwatch.errors import MessageFormatError, QueryError
from jointwatch.network.engines import AnalysisEngine


@dataclass
class HolderMatch:
    """A transaction account whose holder name matched a listed entity."""

    account: str
    holder: str
    country: str | None
    entity_id: str
    source: str
    reference: str
    listed_name: str
    score: float
    list_version: str
    explanation: dict[str, Any] = field(default_factory=dict)


def read_account_file(path: Path) -> list[str]:
    """Account ids, one a line (a CSV's first column; a header line ``account`` is skipped; # comments)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    accounts = []
    for number, line in enumerate(lines, start=1):
        value = line.split(",")[0].strip().strip('"')
        if not value or value.startswith("#") or (number == 1 and value.lower() in {"account", "account_id", "id"}):
            continue
        accounts.append(value)
    if not accounts:
        raise MessageFormatError(path, None, "no account ids in the file")
    return accounts


def designated_accounts(values: Iterable[str]) -> list[str]:
    """``--designated`` values: account ids, comma-separated lists, or ``@file`` / existing file paths."""
    accounts: list[str] = []
    for value in values:
        if value.startswith("@") or Path(value).is_file():
            accounts.extend(read_account_file(Path(value.removeprefix("@"))))
        else:
            accounts.extend(account_ids(value))
    return sorted(set(accounts))


def account_ids(value: str) -> list[str]:
    """Account ids from one comma-separated text, never read as a file name: what a web form may pass
    (``designated_accounts`` would open a path on the server)."""
    return sorted({v.strip() for v in value.split(",") if v.strip()})


def screen_holders(engine: AnalysisEngine, screener: Any, threshold: float | None = None,
                   progress: Callable[[int, int], None] | None = None) -> list[HolderMatch]:
    """Screen every distinct holder name in ``accounts`` against the register; the accounts that match."""
    from jointwatch.screening import Query  # noqa: PLC0415 - only needed when screening is asked for

    grouped: dict[str, dict[str, Any]] = {}
    for r in engine.rows("SELECT name, account, country FROM accounts WHERE name IS NOT NULL"):
        entry = grouped.setdefault(r["name"], {"name": r["name"], "accounts": [], "country": r["country"]})
        entry["accounts"].append(r["account"])
    holders = [grouped[name] for name in sorted(grouped)]
    found: list[HolderMatch] = []
    for done, row in enumerate(holders, start=1):
        matches = []
        # the file does not say whether a holder is a person or an organisation: screen as both
        # (a LegalEntity query would be scored down against either) and keep the better match
        for schema in ("Person", "Organization"):
            try:
                matches += screener.screen(Query(name=row["name"], schema=schema), threshold=threshold, limit=1)
            except QueryError:
                pass  # a name screening refuses (only punctuation …) cannot be a listed one
        matches.sort(key=lambda m: -m.score)
        for m in matches[:1]:
            for account in sorted(row["accounts"]):
                found.append(HolderMatch(account, row["name"], row["country"], m.entity_id, m.source, m.reference,
                                         m.name, round(float(m.score), 4), m.list_version,
                                         asdict(m.explanation)))
        if progress:
            progress(done, len(holders))
    return found
