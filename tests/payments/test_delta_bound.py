"""The bound worked out for many customers at once keeps every customer the one-by-one bound keeps."""

from __future__ import annotations

from jointwatch.names import analyze_name
from jointwatch.payments.delta import ChangedBound, changed_screener, name_tokens
from jointwatch.screening import Screener
from jointwatch.store.customers import StoredCustomer


def _customer(i: int, name: str, schema: str, birth_date: str | None, country: str | None) -> StoredCustomer:
    return StoredCustomer(f"c{i}", name, schema, birth_date, None, country, (),
                          name_tokens(analyze_name(name, schema)))


def test_bound_over_many_customers_keeps_what_one_by_one_keeps(screener: Screener) -> None:
    entities = screener.index.entities
    changed = entities[::40]
    sub = changed_screener(changed, screener)
    bound = ChangedBound(sub)
    names = [e.caption for e in changed[:150]]
    # listed names as written, with a letter dropped, word order turned, and innocent names
    variants = [n[:3] + n[4:] if len(n) > 6 else n for n in names] + [" ".join(n.split()[::-1]) for n in names]
    innocent = ["Hans Peter Becker", "Marie Claire Dubois", "Mehmet Yilmaz", "Chen Wei Ling", "Acme Widgets",
                "Olivia Smith", "Ali Hassan", "Mohammad Reza", "J. R. Smith", "Van Dijk Logistics"]
    customers = []
    for i, name in enumerate(names + variants + innocent):
        schema = ("Person", "Organization", "LegalEntity")[i % 3]
        birth = ("1970-01-01", None, "1965")[i % 3] if schema == "Person" else None
        customers.append(_customer(i, name, schema, birth, "DE" if i % 2 else None))
    customers = [c for c in customers if c.name_keys]
    customers.append(StoredCustomer("empty", "?", "Person", None, None, None, ()))
    for floor in (0.5, 0.68):
        many = bound.may_reach(customers, floor).tolist()
        one = [not c.name_keys or bound.could_reach(c, floor) for c in customers]
        assert all(m or not o for m, o in zip(many, one, strict=True)), "the bound over many dropped a customer"
        assert sum(one) > 0 and sum(many) < len(customers)
        assert many[-1]      # no stored words: always screened
