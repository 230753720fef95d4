"""The transaction file as jointwatch reads it: columns, currencies, and the trace settings.

A transaction file is CSV (header row, UTF-8, RFC 4180 quoting) or Parquet with these
columns (names case-insensitive; extra columns are ignored):

==================== ======== =====================================================
column               required meaning
==================== ======== =====================================================
id                   yes      the transaction's unique reference
timestamp            yes      ISO 8601 date-time (``2024-03-01 14:05:00``), UTC
amount               yes      positive decimal in ``currency`` (``1250.00``)
currency             yes      ISO 4217 code (``EUR``)
sender_account       yes      the paying account (IBAN, wallet, MSB customer id …)
receiver_account     yes      the receiving account
sender_name          no       the paying account's holder, as the institution knows it
receiver_name        no       the receiving account's holder
sender_country       no       ISO 3166-1 alpha-2 country of the sender (holder residence)
receiver_country     no       ISO 3166-1 alpha-2 country of the receiver
sender_institution   no       the sender's bank / MSB / hawaladar (BIC or name)
receiver_institution no       the receiver's institution
channel              no       wire, card, cash, msb, hawala, crypto, mobile …
sender_balance       no       the sender's balance just before the payment, in ``currency``
receiver_balance     no       the receiver's balance just before the payment, in ``currency``
==================== ======== =====================================================
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from jointwatch.errors import InvalidInputError, MessageFormatError

REQUIRED = ("id", "timestamp", "amount", "currency", "sender_account", "receiver_account")
OPTIONAL = ("sender_name", "receiver_name", "sender_country", "receiver_country", "sender_institution",
            "receiver_institution", "channel")
COLUMNS = REQUIRED + OPTIONAL
# read when present (the known opening balance of an account, docs/network.md); the simulator writes none
BALANCES = ("sender_balance", "receiver_balance")
# a typology finding of several accounts names them in one column joined by this character, the ASCII unit separator:
# no account id holds it (the check leaves out a row whose account does), where a comma, which an id may hold, read
# "M,B" as two accounts
ACCOUNT_SEPARATOR = "\x1f"
ACCOUNT_SEPARATOR_SQL = f"CHR({ord(ACCOUNT_SEPARATOR)})"
METHODS = ("fifo", "lifo", "proportional")
METHOD_NAMES = {"fifo": "first in, first out", "lifo": "last in, first out", "proportional": "proportional (haircut)"}


def method_label(method: str, earmark_days: float = 0.0) -> str:
    """The attribution rule as printed beside every figure: the method, and earmarking when on."""
    name = METHOD_NAMES.get(method, method)
    return f"{name}, pass-through earmarked within {earmark_days:g} days" if earmark_days > 0 else name


BASE_CURRENCY = "USD"  # amounts are traced in this currency (rates convert to it); simulated accounts default to it


@dataclass(frozen=True)
class TraceSettings:
    """What to trace and by which rule (see docs/network.md, "Attribution")."""

    hops: int = 4                    # how far upstream from the designated accounts
    lookback_days: float = 7.0       # an outflow is funded by inflows of at most this age
    conduit_share: float = 0.5       # followed through an account only if it passes on this share of its pool
    since: str | None = None         # only payments into designated accounts from this date …
    until: str | None = None         # … up to this date (ISO 8601, inclusive)
    min_amount: float = 0.0          # originators below this many USD are left out of the lists
    method: str = "fifo"             # which inflows an outflow spent: fifo, lifo, proportional
    own_funds_days: float = 30.0     # money beyond what came in is the account's own only with this much history
    intervals: bool = True           # also trace by the other methods: every figure between its lowest and highest
    earmark_days: float = 0.0        # money passed on within this many days as it came (pass-through); 0: off

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInputError(f"method must be one of {', '.join(METHODS)}, not {str(self.method)[:20]!r}")
        if not 0 <= self.own_funds_days <= 3660:
            raise InvalidInputError(f"own_funds_days must be in [0, 3660], not {self.own_funds_days}")
        if not 0 <= self.earmark_days <= 366:
            raise InvalidInputError(f"earmark_days must be in [0, 366], not {self.earmark_days}")
        if not 1 <= self.hops <= 12:
            raise InvalidInputError(f"hops must be between 1 and 12, not {self.hops}")
        if not 0 < self.lookback_days <= 3660:
            raise InvalidInputError(f"lookback_days must be in (0, 3660], not {self.lookback_days}")
        if not 0 <= self.conduit_share <= 1:
            raise InvalidInputError(f"conduit_share must be in [0, 1], not {self.conduit_share}")
        if self.min_amount < 0:
            raise InvalidInputError(f"min_amount must not be negative, not {self.min_amount}")
        for name in ("since", "until"):
            value = getattr(self, name)
            # checked here, not left to the engine's cast: a bad date is the caller's error, never a crash
            try:
                if value is not None:
                    datetime.fromisoformat(value)
            except ValueError:
                raise InvalidInputError(f"{name} {value[:30]!r} is not a date (YYYY-MM-DD)") from None


@cache
def default_rates() -> dict[str, float]:
    """USD per unit of each currency, from resources/network_currencies.yml."""
    path = Path(__file__).resolve().parents[1] / "resources" / "network_currencies.yml"
    with path.open(encoding="utf-8") as handle:
        return {str(k).upper(): float(v) for k, v in yaml.safe_load(handle).items()}


# no unit of account is worth more (a bitcoin was about 10^5 USD): a larger rate is a mistake in the file, and NaN or
# infinity would make every amount in that currency unreadable
MAX_RATE = 10_000_000


def read_rates(path: Path) -> dict[str, float]:
    """Rates from a CSV file ``code,usd_per_unit`` (header optional), over the defaults."""
    rates = dict(default_rates())
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    with handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and not _is_number(row[-1])):
                continue
            if len(row) != 2 or len(row[0].strip()) != 3 or not _is_number(row[1]) \
                    or not 0 < float(row[1]) <= MAX_RATE:
                raise MessageFormatError(path, f"line {number}", "expected code,usd_per_unit (e.g. EUR,1.08), the rate "
                                         f"above 0 and at most {MAX_RATE:,.0f}")
            rates[row[0].strip().upper()] = float(row[1])
    return rates


def file_format(path: Path) -> str:
    """``csv`` or ``parquet``, from the file name; anything else is refused."""
    if not path.exists():
        raise MessageFormatError(path, None, "no such file")
    suffix = "".join(path.suffixes[-2:]).lower() if path.is_file() else ".parquet"
    if suffix.endswith(".parquet") or path.is_dir():
        return "parquet"
    if suffix.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise MessageFormatError(path, None, "expected a .csv or .parquet transaction file")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
