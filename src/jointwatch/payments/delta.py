"""Finding the customers a list change can concern, without screening the whole base again.

The changed entities make a small screener that scores exactly as the full one
(``Screener.subset``: the whole register's word weights, the same config). Each customer's
analysed words are stored by the run that screened them (``name_tokens``), so a delta run
need not analyse a million names again; the screening package's ``Reach`` bounds, from those
words, what any changed entity can score for each customer, with the same retrieval and the
same ceilings that the screener scores with (``ChangedBound``). Only customers above that
bound are screened against the small screener (``may_match_changed``), and only those it
finds, by the caller, against the full one."""

from __future__ import annotations

import numpy as np

from jointwatch.names import AnalyzedName, Token
from jointwatch.screening import Listed, Query, Reach, Screener, Subject
from jointwatch.store import StoredCustomer


def name_tokens(name: AnalyzedName) -> tuple[str, ...]:
    """The analysed words of a name as stored with the customer ("text|canonical|keys|flags"),
    so a delta run reads them back instead of analysing a million names again."""
    return tuple(f"{t.text}|{t.canonical}|{','.join(t.keys)}|{int(t.native)}{int(t.known)}" for t in name.tokens)


def token_of(stored: str) -> Token:
    """A word stored by ``name_tokens``, as the engine's Token (its spelling as written is not kept)."""
    text, canonical, keys, flags = stored.split("|")
    return Token(text, canonical, tuple(k for k in keys.split(",") if k), text, flags[0] == "1", flags[1] == "1")


def customer_query(c: StoredCustomer) -> Query:
    """The customer as the engine's query (birth date, nationalities and country as evidence)."""
    countries = tuple(v for v in [*(c.nationality or "").split(";"), c.country or ""] if v)
    return Query(name=c.name, schema=c.schema, birth_date=c.birth_date, countries=countries, id=c.ref)


def changed_screener(entities: list[Listed], full: Screener) -> Screener:
    """A screener over the changed entities alone, scoring as ``full`` does (no whitelist: it
    must find a superset)."""
    return full.subset(entities)


class ChangedBound:
    """The screening package's ``Reach`` over the changed entities, for stored customers: their
    query and their stored words (each distinct stored word made a Token once)."""

    def __init__(self, sub: Screener) -> None:
        self.reach = Reach(sub)
        self._tokens: dict[str, Token] = {}
        self._live: dict[str, bool] = {}   # stored word -> whether it reaches any changed name

    def tokens(self, stored: tuple[str, ...]) -> tuple[Token, ...]:
        out = []
        for s in stored:
            token = self._tokens.get(s)
            if token is None:
                token = self._tokens[s] = token_of(s)
            out.append(token)
        return tuple(out)

    def subject(self, c: StoredCustomer) -> Subject:
        return Subject(customer_query(c), self.tokens(c.name_keys))

    def may_reach(self, customers: list[StoredCustomer], floor: float) -> np.ndarray:
        """For many customers at once: False where no changed entity can reach ``floor``
        (``could_reach`` would say False too); customers without stored words are True.
        Most customers have no word that reaches a changed name at all: they are told apart by
        their stored words alone (each distinct one looked up once), before any is made a query."""
        out = np.zeros(len(customers), dtype=bool)
        live = [i for i, c in enumerate(customers) if not c.name_keys or any(self._reaches(s) for s in c.name_keys)]
        if live:
            out[live] = self.reach.may_reach([self.subject(customers[i]) for i in live], floor)
        return out

    def _reaches(self, stored: str) -> bool:
        held = self._live.get(stored)
        if held is None:
            held = self._live[stored] = self.reach.reaches(self.tokens((stored,))[0])
        return held

    def could_reach(self, c: StoredCustomer, floor: float) -> bool:
        """False when no changed entity's name can have a ceiling of ``floor`` for this customer."""
        return self.reach.could_reach(self.subject(c), floor)


def may_match_changed(c: StoredCustomer, bound: ChangedBound, floor: float) -> bool:
    """Whether the full engine could score the customer at ``floor`` or more on a changed entity:
    the cheap bound first, then the customer screened against the changed entities alone, with
    the full register's weights."""
    return bound.reach.may_match(bound.subject(c), floor)
