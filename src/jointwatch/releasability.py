"""Who may see, match and pass on a partner entry: distribution, TLP 2.0 and handling codes.

One set of rules, used by every front end and every read: the store loads labels, this module
decides. A member may see an entry when its distribution reaches the member; it matches in
screening only while it is also active and not past its expiry; it may be passed on (an
export, a TAXII collection, a federation link) only when its TLP and handling allow.

- ``originator``: the contributing member alone.
- ``members``: the originator and the members named in ``audience`` (member ids).
- ``group``: the originator and the members of the sharing groups in ``audience`` (group
  ids), as the groups stand at the moment of the read.
- ``server``: every member of this server (not the members that stand for a federation link).
- ``connected``: every member of this server, and the servers connected by a link, which
  receive it as ``server`` unless the link allows ``connected`` (MISP's downgrade).

TLP 2.0 (FIRST): ``red`` is for named recipients only, so it goes with ``originator`` or
``members``; ``connected`` leaves this server, so it needs ``clear``, ``green`` or ``amber``
and no ``no-further-dissemination``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from jointwatch.errors import InvalidInputError

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
DISTRIBUTIONS = ("originator", "members", "group", "server", "connected")
# What the originator asks of everyone who receives the entry (shown with every partner hit).
HANDLING_CODES: dict[str, str] = {
    "info-only": "for information only: do not act on this entry alone",
    "consent-before-action": "no action without the originator's consent: contact it first",
    "no-further-dissemination": "do not pass on beyond the recipients, in any form",
    "contact-originator": "tell the originator of every hit",
}
STATUSES = ("active", "withdrawn")
# the labels an export or a TAXII collection may carry out of this server, whoever asks
PASSABLE_TLP = ("clear", "green", "amber")


def today() -> date:
    """The day expiry is judged by (UTC, the same on every server of a federation)."""
    return datetime.now(UTC).date()


def tlp_level(text: str) -> str:
    """A TLP level from user text: case and spacing forgiven, ``TLP:AMBER+STRICT`` accepted."""
    level = text.strip().lower().removeprefix("tlp:").strip()
    if level not in TLP_LEVELS:
        raise InvalidInputError(f"TLP {text!r} is not one of {', '.join(TLP_LEVELS)}")
    return level


def tlp_allows(level: str, ceiling: str) -> bool:
    """Whether something at TLP ``level`` may go where ``ceiling`` is the most allowed."""
    return TLP_LEVELS.index(level) <= TLP_LEVELS.index(ceiling)


def stricter_tlp(a: str, b: str) -> str:
    return a if TLP_LEVELS.index(a) >= TLP_LEVELS.index(b) else b


@dataclass(frozen=True)
class Labels:
    """How an entry is shared. Checked when made: a combination the rules forbid never exists."""

    distribution: str = "originator"
    audience: tuple[int, ...] = ()          # member ids (members) or sharing group ids (group)
    tlp: str = "amber"
    handling: tuple[str, ...] = ()
    reason: str = ""                        # why it is shared, the legal basis
    expires_on: date | None = None          # stops matching after this day; the originator renews it

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise InvalidInputError(f"distribution {self.distribution!r} is not one of {', '.join(DISTRIBUTIONS)}")
        if self.tlp not in TLP_LEVELS:
            raise InvalidInputError(f"TLP {self.tlp!r} is not one of {', '.join(TLP_LEVELS)}")
        unknown = [h for h in self.handling if h not in HANDLING_CODES]
        if unknown:
            raise InvalidInputError(f"handling code {unknown[0]!r} is not one of {', '.join(HANDLING_CODES)}")
        if self.distribution in ("members", "group") and not self.audience:
            raise InvalidInputError(f"distribution {self.distribution!r} needs at least one "
                                    f"{'member' if self.distribution == 'members' else 'sharing group'}")
        if self.distribution not in ("members", "group") and self.audience:
            raise InvalidInputError(f"distribution {self.distribution!r} takes no audience")
        if self.tlp == "red" and self.distribution not in ("originator", "members"):
            raise InvalidInputError("TLP:RED is for named recipients only: use distribution 'members'")
        if self.distribution == "connected" and (not tlp_allows(self.tlp, "amber")
                                                 or "no-further-dissemination" in self.handling):
            raise InvalidInputError("distribution 'connected' sends the entry to other servers: it needs "
                                    "TLP clear, green or amber and no 'no-further-dissemination'")
        if not self.reason.strip():
            raise InvalidInputError("a partner entry needs a reason (why it is shared, the legal basis)")
        if len(self.reason) > 2000:
            raise InvalidInputError("a reason is at most 2,000 characters")

    def to_dict(self) -> dict[str, object]:
        return {"distribution": self.distribution, "audience": list(self.audience), "tlp": self.tlp,
                "handling": list(self.handling), "reason": self.reason,
                "expires_on": self.expires_on.isoformat() if self.expires_on else None}


@dataclass(frozen=True)
class Recipient:
    """A member as releasability sees it: its id, the sharing groups it is in, and whether it
    stands for a federation link (a peer server pulling, not an organisation here)."""

    member_id: int
    groups: frozenset[int] = field(default_factory=frozenset)
    link: bool = False


def may_see(originator: int | None, labels: Labels, recipient: Recipient) -> bool:
    """Whether ``recipient`` may know the entry exists (see it, find it, match it while active)."""
    if originator is not None and recipient.member_id == originator:
        return True
    match labels.distribution:
        case "members":
            return not recipient.link and recipient.member_id in labels.audience
        case "group":
            return not recipient.link and not recipient.groups.isdisjoint(labels.audience)
        case "server":
            return not recipient.link
        case "connected":
            return True
    return False


def may_see_evidence(originator: int | None, entry_labels: Labels, evidence_tlp: str, recipient: Recipient) -> bool:
    """Whether ``recipient`` may see an evidence file (know it exists, read it) of an entry under ``entry_labels``.

    Its originator always. Anyone else only if it may see the entry, and the file's TLP (the
    stricter of its own and the entry's, should the entry have been made stricter since) reaches
    it: ``red`` only the members the entry names (distribution ``members``), as TLP:RED is for
    named recipients; a federation link only up to ``amber``, as anything stricter stays on this
    server. So red evidence on an entry shared to a group or the server is the originator's alone.
    """
    if originator is not None and recipient.member_id == originator:
        return True
    if not may_see(originator, entry_labels, recipient):
        return False
    tlp = stricter_tlp(evidence_tlp, entry_labels.tlp)
    if tlp == "red":
        return entry_labels.distribution == "members" and recipient.member_id in entry_labels.audience
    if recipient.link:
        return tlp_allows(tlp, "amber")
    return True


def is_live(status: str, expires_on: date | None, today: date) -> bool:
    """Whether an entry matches at all: active and not past its expiry."""
    return status == "active" and (expires_on is None or expires_on >= today)


def may_pass_on(originator: int | None, labels: Labels, recipient: Recipient) -> bool:
    """Whether ``recipient`` may pass the entry on (export it, serve it to outside tools): its own
    entries always; others' only up to TLP:AMBER and without ``no-further-dissemination``."""
    if originator is not None and recipient.member_id == originator:
        return True
    return (may_see(originator, labels, recipient) and labels.tlp in PASSABLE_TLP
            and "no-further-dissemination" not in labels.handling)


def may_redistribute(received: Labels, distribution: str) -> bool:
    """Whether a recipient may share on, under ``distribution``, what it received under ``received``
    (an imported file): TLP:CLEAR and GREEN reach a community, so any distribution; AMBER,
    AMBER+STRICT and RED, or ``no-further-dissemination``, stay in the recipient's own
    organisation, so ``originator`` only (TLP 2.0: amber is the recipient's organisation and
    its clients on a need-to-know basis)."""
    if distribution == "originator":
        return True
    return received.tlp in ("clear", "green") and "no-further-dissemination" not in received.handling


def downgraded(labels: Labels, link_allows: str) -> Labels:
    """The labels an entry takes on arriving through a link: ``connected`` becomes ``server``
    unless the link allows ``connected`` (MISP's downgrade on sync)."""
    if labels.distribution == "connected" and link_allows != "connected":
        return Labels("server", (), labels.tlp, labels.handling, labels.reason, labels.expires_on)
    return labels


def handling_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Handling codes from user text, in the catalogue's order, each once."""
    wanted = {c.strip().lower() for c in codes if c.strip()}
    unknown = sorted(wanted - set(HANDLING_CODES))
    if unknown:
        raise InvalidInputError(f"handling code {unknown[0]!r} is not one of {', '.join(HANDLING_CODES)}")
    return tuple(c for c in HANDLING_CODES if c in wanted)


def may_discover(originator: int | None, labels: Labels, status: str, holder_id: int, tlp_max: str,
                 recipient: Recipient, day: date) -> bool:
    """Whether an entry belongs in ``holder_id``'s blind index for ``recipient`` (blind discovery):
    the holder's own entry, live, no stricter than the holder's offer allows, and one the
    recipient may not see already (what it may see, it screens in plain)."""
    return (originator == holder_id and is_live(status, labels.expires_on, day)
            and tlp_allows(labels.tlp, tlp_max) and not may_see(originator, labels, recipient))
