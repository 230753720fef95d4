"""``Screener.screen_each`` answers each query as ``screen`` does, and the screener's word-pair
memo changes no answer (it only saves work), on the real UN list and OFAC SDN 2023-06-05."""

from __future__ import annotations

import numpy as np
import pytest

from jointwatch.errors import QueryError
from jointwatch.screening import Match, NameMemory, Query, Screener
from jointwatch.screening.compare import PairMemo
from jointwatch.screening.index import Retrieved

OFAC = "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"
UN = "TARAK BEN TAHER BEN FALEH OUNI HARZI"
# QDi.354's listed birth date is 1982-05-03; the others agree a little, or not at all
FACTS = [(None, ()), ("1982-05-03", ()), ("1982", ("TN",)), ("1990-01-01", ("DE",)), (None, ("Tunisia", "SY")),
         ("1982-03-05", ())]
NAMES = [(OFAC, "Person"), (UN, "Person"), ("Tarik Harzy", "Person"), ("Mohammed Ali", "Person"),
         ("Jennifer Garcia", "Person"), ("Hans-Peter Müller", "Person"), ("Al-Nusrah Front", "Organization"),
         ("Jabhat al-Nusra", "LegalEntity"), ("Smith Trading", "Organization")]


def _plain(matches: list[Match]) -> list[tuple[str, float, str, object]]:
    return [(m.entity_id, m.score, m.name, m.explanation) for m in matches]


@pytest.mark.parametrize(("name", "schema"), NAMES)
def test_screen_each_answers_each_query_as_screen_does(screener: Screener, name: str, schema: str) -> None:
    queries = [Query(name=name, schema=schema, birth_date=b if schema == "Person" else None, countries=c)
               for b, c in FACTS]
    each = screener.screen_each(queries, limit=25)
    assert [_plain(m) for m in each] == [_plain(screener.screen(q, limit=25)) for q in queries]
    if name in (OFAC, UN):
        # the facts count: the listed birth date lifts QDi.354, one far off lowers it
        scores = [next((m.score for m in found if m.reference == "QDi.354"), 0.0) for found in each]
        assert scores[1] >= scores[0] > scores[3]


@pytest.mark.parametrize(("name", "schema"), NAMES[:4] + NAMES[6:8])
def test_a_name_memory_changes_no_answer(screener: Screener, name: str, schema: str) -> None:
    # the same name back with each of the facts in turn, as a later batch brings it, through a
    # memory so small that the name is also forgotten and worked out again on the way
    memory, tiny = NameMemory(), NameMemory(size=1)
    for birth_date, countries in FACTS * 2:
        query = Query(name=name, schema=schema, birth_date=birth_date if schema == "Person" else None,
                      countries=countries)
        expected = _plain(screener.screen(query, limit=25))
        assert _plain(screener.screen_each([query], limit=25, memory=memory)[0]) == expected
        assert _plain(screener.screen_each([query], limit=25, memory=tiny)[0]) == expected
        screener.screen_each([Query(name="Jennifer Garcia")], memory=tiny)   # pushes the name out
    assert memory.reused == 2 * len(FACTS) - 1 and len(memory) == 1
    # another index's screener (lists reloaded) never reads this one's work
    other = Screener(screener.index.subset(screener.index.entities[:50]), config=screener.config)
    other.screen_each([Query(name=name, schema=schema)], memory=memory)
    assert memory.reused == 2 * len(FACTS) - 1
    # another config or a visibility mask is never answered from the memory
    visible = np.ones(len(screener.index.entities), dtype=bool)
    screener.screen_each([Query(name=name, schema=schema)], memory=memory, visible=visible)
    assert memory.reused == 2 * len(FACTS) - 1


def test_screen_each_takes_one_name_and_says_which_query_is_wrong(screener: Screener) -> None:
    with pytest.raises(ValueError, match="one name"):
        screener.screen_each([Query(OFAC), Query(UN)])
    with pytest.raises(QueryError, match="birth_date"):
        screener.screen_each([Query(OFAC), Query(OFAC, birth_date="yesterday")])
    assert screener.screen_each([]) == []


def test_the_word_pair_memo_changes_no_answer(screener: Screener) -> None:
    names = [n for n, _ in NAMES] + ["Tariq Harzi", "Taraq al Harzi", "Ali Harzi", "Mohamed Ali Harzi"]
    fresh = Screener(screener.index, config=screener.config)
    fresh.memo = None
    tiny = Screener(screener.index, config=screener.config)
    tiny.memo = PairMemo(limit=50)          # emptied again and again while the queries run
    for _ in range(2):
        for name in names:
            query = Query(name=name, schema="Person")
            expected = _plain(fresh.screen(query, limit=25))
            assert _plain(screener.screen(query, limit=25)) == expected
            assert _plain(tiny.screen(query, limit=25)) == expected
    assert screener.memo is not None and screener.memo.pairs > 0


class _Unpruned(Screener):
    """The same screener without the per-entity facts ceiling: every name the ceilings pass is scored."""

    def _facts_can_reach(self, query: Query, found: Retrieved, passing: np.ndarray, *args: object) -> np.ndarray:
        return passing


def test_leaving_out_entities_the_facts_keep_under_the_threshold_changes_no_answer(screener: Screener) -> None:
    # listed persons with their listed birth date, a year off, years off; namesakes with other dates and countries
    listed = [e for e in screener.index.entities if e.schema == "Person" and e.birth_dates][:60:3]
    queries = []
    for n, entity in enumerate(listed):
        born = entity.birth_dates[0]
        year = int(born[:4])
        for birth_date in (born, f"{year + 1}{born[4:]}", f"{year - 7}", "1975-06-30"):
            queries.append(Query(name=entity.caption, birth_date=birth_date,
                                 countries=(("DE",), (), tuple(sorted(entity.countries))[:1])[n % 3]))
    queries += [Query(name=name, birth_date=b, countries=c) for name in ("Mohammed Ali", "Ali Hassan", "Abu Bakr")
                for b, c in FACTS]
    unpruned = _Unpruned(screener.index, config=screener.config)
    differ = [q for q in queries if _plain(screener.screen(q, limit=25)) != _plain(unpruned.screen(q, limit=25))]
    assert not differ
    assert sum(bool(screener.screen(q)) for q in queries) >= len(listed)
