"""The claims of docs/blind-discovery.md ("What each side learns"), each proved on the real UN store
through the service (and the library where a claim is about days or links).

- The holder learns who asked, when and how many keys; never the name: no table of the store
  holds a query's words or keys in clear, and the holder's view is asker, time, key count.
- The key count is a bucket, and padding elements are valid group elements like the real ones.
- The asker learns hit or no hit, strength, the kinds that agreed, its own words and a token:
  the index holds none of the holder's words, references, ids, TLP or reason; tokens and
  evaluations differ between askers and between days.
- What an asker may already see, it screens in plain, not blind; withdrawn, expired and
  stricter-than-offered entries are not in the index; a link's peer gets an index only from
  an offer with scope connected.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import rbcl
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, LargeBinary, String, Text, select

from jointwatch.errors import NotFoundError
from jointwatch.names import analyze_name
from jointwatch.releasability import Labels
from jointwatch.screening import Query
from jointwatch.sharing import (
    BUCKETS,
    EntryInput,
    asker_label,
    blind_index,
    epoch_of,
    evaluate_blinded,
    open_offer,
    oprf,
    prepare,
    share_entry,
    withdraw_entry,
)
from jointwatch.sharing.blind_keys import query_keys
from jointwatch.sharing.discovery import discoverable, entry_token, offer_for
from jointwatch.store import get_offer, recipient_of
from jointwatch.store.federation import add_link
from jointwatch.store.schema import metadata
from tests.api.conftest import Member
from tests.sharing.test_discovery_api import (
    BIRTH,
    ENTRY_NAMES,
    PASSPORT,
    QUERY,
    REASON,
    ask,
    evaluate,
    holder_view,
    offer,
    share_red,
)

SECRET_DOCUMENT = "Q 99887766"          # a document the query sends that no list or entry holds


def _store_text(engine: Engine) -> str:
    """Every text cell of every table of the store (and its binary cells, read as UTF-8 where they
    are), lower-cased, one per line."""
    cells: list[str] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                cells.extend((v.decode("utf-8", "ignore") if isinstance(v, bytes) else str(v)).lower()
                             for v in row if v is not None)
    return "\n".join(cells)


def test_no_table_holds_a_query_s_words_or_keys_in_clear(
        client: TestClient, app: FastAPI, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder)
    unique = "Zq" + "".join(chr(ord("a") + b % 26) for b in rbcl.randombytes(8))  # a word no one else sends
    queries = [Query(QUERY, birth_date="1982", id_numbers=(SECRET_DOCUMENT,)), Query(f"{unique} al Harzy")]
    keys = {k.value.lower() for q in queries for k in query_keys(analyze_name(q.name), ["1982"], q.id_numbers)}
    secrets = [unique.lower(), "harzy", SECRET_DOCUMENT.lower(), SECRET_DOCUMENT.replace(" ", "").lower(), *keys]
    before = _store_text(un_store)

    [answer] = ask(client, asker, holder, QUERY, id_numbers=[SECRET_DOCUMENT])["answers"]
    assert answer["hit"]
    ask(client, asker, holder, queries[1].name, birth_date=None)
    # and a client's own two steps
    weigh = app.state.screeners.current()[0].index
    for query in queries:
        assert evaluate(client, asker, holder, prepare(query, weigh).elements).status_code == 200

    after = _store_text(un_store)
    # nothing written by these queries holds a word or key of them (what was there before is the lists')
    assert not [s for s in secrets if after.count(s) > before.count(s)]
    assert unique.lower() not in after and SECRET_DOCUMENT.replace(" ", "").lower() not in after


def test_the_holder_sees_asker_time_and_key_count_only(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder)
    ask(client, asker, holder, QUERY, id_numbers=[SECRET_DOCUMENT])
    ask(client, asker, holder, "John Smith")
    view = holder_view(client, holder)
    assert [set(row) for row in view["log"]] == [{"asker", "at", "keys", "outcome"}] * 2
    assert {row["asker"] for row in view["log"]} == {asker.name}
    assert [set(row) for row in view["spend"]] == [{"holder", "asker", "day", "keys", "queries", "refused",
                                                    "budget"}]
    text = json.dumps(view).lower()
    for word in ("tarek", "harzy", "john", "smith", "99887766", "1982"):
        assert word not in text, word


def test_the_key_count_is_a_bucket_whatever_the_name(
        client: TestClient, app: FastAPI, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    offer(client, holder)
    one_word, five_words = "Harzy", "Ali Bin Abu Umar Said"
    for name in (one_word, five_words):
        ask(client, asker, holder, name, birth_date=None)
    log = holder_view(client, holder)["log"]
    assert [row["keys"] for row in log] == [16, 16]
    un_latin, un_arabic = "Tarak Ben Taher Ben Faleh Ouni Harzi", "طارق بن الطاھر بن الفالح العوني الحرزي"
    for name in (one_word, five_words, un_latin, un_arabic):
        blinded = prepare(Query(name), app.state.screeners.current()[0].index)
        assert len(blinded.elements) in BUCKETS and len(blinded.keys) <= len(blinded.elements)
        # padding is random group elements: valid, distinct, as the blinded ones are
        assert all(oprf.check_element(e) == e for e in blinded.elements)
        assert len(set(blinded.elements)) == len(blinded.elements)


def test_the_index_holds_no_word_reference_id_tlp_or_reason_of_the_holder(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    entry = share_red(un_store, holder)
    offer(client, holder)
    response = client.get(f"/discovery/holders/{holder.name}/index", headers=asker.auth("analyst"))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"format", "holder", "epoch", "entries", "names", "keys", "postings"}
    assert all(set(e) == {"token", "birth_year"} for e in data["entries"])
    raw = base64.b64decode(data.pop("keys"))
    text = json.dumps(data, ensure_ascii=False).lower()
    words = {w.lower().strip("-") for n in ENTRY_NAMES for w in n.replace("-", " ").split() if len(w) >= 3}
    secrets = words | {entry.ref.lower(), PASSPORT.lower(), BIRTH, "red", "consent",
                       *(w for w in REASON.lower().replace(",", " ").split() if len(w) >= 4)}
    assert not [s for s in secrets if s in text]
    assert not [w for w in words if len(w.encode()) >= 4 and w.encode() in raw]
    assert str(entry.id) not in [e["token"] for e in data["entries"]]
    # the index is the entry's token in this asker's index today, and only that
    token = entry_token(offer_for(un_store, holder.id, recipient_of(un_store, asker.id)), asker_label(asker.id),
                        epoch_of(), entry.id)
    assert token in [e["token"] for e in data["entries"]]


def test_tokens_and_evaluations_differ_between_askers_and_days(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, first, second = new_member(), new_member(), new_member()
    entry = share_red(un_store, holder)
    offer(client, holder)
    today = date.today()
    tomorrow = today + timedelta(days=1)
    a_today = blind_index(un_store, holder.id, first.id, today)
    b_today = blind_index(un_store, holder.id, second.id, today)
    a_tomorrow = blind_index(un_store, holder.id, first.id, tomorrow)
    assert not set(a_today.tokens) & set(b_today.tokens)
    assert not set(a_today.tokens) & set(a_tomorrow.tokens)
    assert not set(a_today.postings) & set(b_today.postings) and not set(a_today.postings) & set(a_tomorrow.postings)

    # the same blinded element, evaluated for two askers and on two days: three different answers
    elements = [rbcl.crypto_core_ristretto255_random() for _ in range(16)]
    answers = [evaluate(client, who, holder, elements).json()["elements"] for who in (first, second)]
    later, _ = evaluate_blinded(un_store, holder.id, first.id, elements, datetime.now(UTC) + timedelta(days=1))
    assert answers[0] != answers[1]
    assert answers[0] != [base64.b64encode(e).decode() for e in later]
    assert not set(answers[0]) & set(answers[1])
    # and the hit's token for one asker is not the other's
    [hit_a] = ask(client, first, holder)["answers"][0]["hits"]
    [hit_b] = ask(client, second, holder)["answers"][0]["hits"]
    assert hit_a["token"] != hit_b["token"]
    offer_now = get_offer(un_store, holder.id)
    assert offer_now is not None
    assert hit_a["token"] == entry_token(offer_now, asker_label(first.id), epoch_of(), entry.id)


def test_what_an_asker_may_see_it_screens_in_plain_not_blind(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, partner, outsider = new_member(), new_member(), new_member()
    entry = share_red(un_store, holder, tlp="amber", distribution="members", audience=(partner.id,))
    offer(client, holder)
    assert ask(client, partner, holder)["answers"][0]["hit"] is False
    plain = client.post("/match", json={"name": QUERY, "birth_date": BIRTH}, headers=partner.auth("screener"))
    assert entry.ref in [m["reference"] for m in plain.json()["matches"]]
    assert ask(client, outsider, holder)["answers"][0]["hit"] is True


def test_withdrawn_expired_and_stricter_than_offered_entries_are_not_in_the_index(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    recipient = recipient_of(un_store, asker.id)
    offer(client, holder, tlp_max="amber")
    red = share_red(un_store, holder)
    amber = share_red(un_store, holder, ["Mokhtar Belmokhtari Qaddouri"], tlp="amber")
    today = date.today()
    expiring = share_entry(un_store, holder.id, "officer",
                           EntryInput("Person", {"name": ["Yusuf Fadlallah Zawahri"]}),
                           Labels("originator", (), "amber", (), REASON, today + timedelta(days=1)))

    def covered(day: date) -> set[str]:
        held = get_offer(un_store, holder.id)
        assert held is not None
        return {e.ref for e in discoverable(un_store, held, recipient, day)}

    assert covered(today) == {amber.ref, expiring.ref}  # red is above the offer's tlp_max
    assert covered(today + timedelta(days=2)) == {amber.ref}  # the day after its last day
    assert ask(client, asker, holder)["answers"][0]["hit"] is False  # the red one
    assert ask(client, asker, holder, "Mokhtar Belmokhtari Qaddouri", birth_date=None)["answers"][0]["hit"]
    withdraw_entry(un_store, amber.ref, holder.id, "officer", "cleared")
    assert covered(today) == {expiring.ref}
    assert ask(client, asker, holder, "Mokhtar Belmokhtari Qaddouri", birth_date=None)["answers"][0]["hit"] is False
    offer(client, holder, tlp_max="red")
    assert covered(today) == {red.ref, expiring.ref}
    assert ask(client, asker, holder)["answers"][0]["hit"] is True


def test_a_link_s_peer_gets_an_index_only_from_an_offer_with_scope_connected(
        un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder = new_member()
    share_red(un_store, holder)
    link, _secret = add_link(un_store, f"partner-{holder.name}", None, {"k1": base64.b64encode(b"k" * 32).decode()})
    open_offer(un_store, holder.id, scope="server")
    with pytest.raises(NotFoundError):
        blind_index(un_store, holder.id, link.member_id)
    with pytest.raises(NotFoundError):
        evaluate_blinded(un_store, holder.id, link.member_id, [rbcl.crypto_core_ristretto255_random()] * 16)
    open_offer(un_store, holder.id, scope="connected")
    index = blind_index(un_store, holder.id, link.member_id)
    assert len(index.tokens) >= 1
    _evaluated, spend = evaluate_blinded(un_store, holder.id, link.member_id,
                                         [rbcl.crypto_core_ristretto255_random()] * 16)
    assert spend.asker == asker_label(link.member_id) and spend.keys == 16

