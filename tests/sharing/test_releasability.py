"""The releasability rules (jointwatch.releasability) against the issue's own words, as properties
over random labels and recipients; an oracle written here from the rules' text, not from the code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointwatch.errors import InvalidInputError
from jointwatch.releasability import (
    DISTRIBUTIONS,
    HANDLING_CODES,
    TLP_LEVELS,
    Labels,
    Recipient,
    downgraded,
    handling_codes,
    is_live,
    may_pass_on,
    may_see,
    tlp_level,
)

MEMBERS = range(1, 7)
GROUPS = range(1, 4)


@st.composite
def labels(draw: st.DrawFn) -> Labels:
    """Random labels the rules allow (invalid combinations are rejected by Labels itself)."""
    while True:
        distribution = draw(st.sampled_from(DISTRIBUTIONS))
        audience: tuple[int, ...] = ()
        if distribution == "members":
            audience = tuple(sorted(draw(st.sets(st.sampled_from(MEMBERS), min_size=1, max_size=4))))
        elif distribution == "group":
            audience = tuple(sorted(draw(st.sets(st.sampled_from(GROUPS), min_size=1, max_size=2))))
        tlp = draw(st.sampled_from(TLP_LEVELS))
        handling = tuple(c for c in HANDLING_CODES if draw(st.booleans()))
        try:
            return Labels(distribution, audience, tlp, handling, "because")
        except InvalidInputError:
            continue


recipients = st.builds(Recipient, st.sampled_from(MEMBERS), st.frozensets(st.sampled_from(GROUPS), max_size=3),
                       st.booleans())


def oracle_sees(originator: int, lab: Labels, who: Recipient) -> bool:
    """The issue's words: originator only; named members; a named sharing group; all members of
    this server; connected servers (which include this server's members)."""
    if who.member_id == originator:
        return True
    if who.link:  # a peer server sees only what goes to connected servers
        return lab.distribution == "connected"
    return {"originator": False,
            "members": who.member_id in lab.audience,
            "group": bool(who.groups & set(lab.audience)),
            "server": True,
            "connected": True}[lab.distribution]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(MEMBERS), labels(), recipients)
def test_may_see_is_exactly_the_distribution(originator: int, lab: Labels, who: Recipient) -> None:
    assert may_see(originator, lab, who) == oracle_sees(originator, lab, who)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MEMBERS), labels(), recipients)
def test_passing_on_never_exceeds_seeing_and_honours_tlp_and_handling(originator: int, lab: Labels,
                                                                      who: Recipient) -> None:
    passes = may_pass_on(originator, lab, who)
    if who.member_id == originator:
        assert passes
        return
    assert passes == (oracle_sees(originator, lab, who) and lab.tlp in ("clear", "green", "amber")
                      and "no-further-dissemination" not in lab.handling)


@settings(max_examples=200, deadline=None)
@given(labels(), st.sampled_from(["server", "connected"]))
def test_a_link_downgrades_connected_unless_it_allows_more(lab: Labels, allow: str) -> None:
    out = downgraded(lab, allow)
    if lab.distribution == "connected":
        assert out.distribution == ("connected" if allow == "connected" else "server")
    else:
        assert out == lab
    assert (out.tlp, out.handling, out.reason) == (lab.tlp, lab.handling, lab.reason)


def test_withdrawn_or_expired_entries_never_match() -> None:
    today = date(2026, 12, 3)
    assert is_live("active", None, today)
    assert is_live("active", today, today)  # the expiry day itself still counts
    assert not is_live("active", today - timedelta(days=1), today)
    assert not is_live("withdrawn", None, today)


@pytest.mark.parametrize(("distribution", "audience", "tlp", "handling", "fault"), [
    ("server", (), "red", (), "TLP:RED"),
    ("group", (1,), "red", (), "TLP:RED"),
    ("connected", (), "amber+strict", (), "connected"),
    ("connected", (), "green", ("no-further-dissemination",), "connected"),
    ("members", (), "amber", (), "needs at least one member"),
    ("server", (3,), "amber", (), "takes no audience"),
    ("everyone", (), "amber", (), "distribution"),
    ("server", (), "amber", ("act-now",), "handling code"),
])
def test_labels_the_rules_forbid_are_refused(distribution: str, audience: tuple[int, ...], tlp: str,
                                             handling: tuple[str, ...], fault: str) -> None:
    with pytest.raises(InvalidInputError, match=fault):
        Labels(distribution, audience, tlp, handling, "because")


def test_a_reason_is_required_and_user_text_is_forgiven() -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        Labels("server", (), "amber", (), "  ")
    assert tlp_level(" TLP:AMBER+STRICT ") == "amber+strict"
    assert handling_codes(["No-Further-Dissemination", "info-only", "info-only"]) == (
        "info-only", "no-further-dissemination")
    with pytest.raises(InvalidInputError):
        tlp_level("TLP:WHITE")  # TLP 1.0's word; TLP 2.0 says clear
