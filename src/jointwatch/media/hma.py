"""Push to an HMA bank: what changed in ours since a checkpoint, through HMA 2.x's curator API.

Platforms run Meta's Hasher-Matcher-Actioner (HMA, "OpenMediaMatch"); its curator role serves, under ``/c``:

* ``GET /c/signal_type``: the signal types the service takes (``[{"name": "pdq", "enabled_ratio": 1.0}, …]``);
* ``GET /c/bank/<NAME>``: the bank (404 when there is none);
* ``POST /c/bank/<NAME>/signal`` with ``{"<signal type>": "<signal>", …}``: one piece of content banked with
  those signals (each checked by the type's ``validate_signal_str``), answered ``{"id": <content id>, …}``;
* ``DELETE /c/bank/<NAME>/content/<id>``: that content removed, answered ``{"deleted": <count>}``.

``push_signals`` walks the items the pushing member may see (as ``export`` does), in order of change, from the
checkpoint on: an active item up to ``max_tlp`` that is not there yet is added (only the signal types the far side
takes), and one pushed before that has since been disputed, withdrawn or relabelled above ``max_tlp`` is removed
(HMA has no dispute: a disputed item must not match there), as is one the member may no longer see at all.
Another member's item goes only up to TLP:GREEN unless ``own_service`` says the far side belongs to the pushing
member's own organisation: TLP 2.0 lets an AMBER recipient share within its own organisation, never with a partner
or another platform, and a push usually goes to one. After
each accepted request the checkpoint file is written whole and renamed: where the walk got to, and the far side's
content id of every item it holds (to remove it later). A refusal (4xx, 5xx) or a broken connection stops the push
there, the checkpoint at the last accepted item: run again, it resumes and sends nothing twice. TLP:RED never
leaves.

Our labels ride as query parameters (``content_type``, ``group``, ``tlp``), which HMA ignores and our own
HMA-shaped routes (``/media/hma/c/…``) read, so two jointwatch services can push to each other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jointwatch.errors import ConflictError, InvalidInputError, LinkAnswerError, ListFormatError, NotFoundError
from jointwatch.media.bank import Contribution, change_status, contribute_hashes, get_item
from jointwatch.media.labels import DEFAULT_EXPORT_TLP, Labels
from jointwatch.media.te import item_signals, signal_types, visible_rows, vpdq_from_signal
from jointwatch.releasability import TLP_LEVELS, tlp_allows
from jointwatch.store import Engine, get_member

# HMA's rule for a bank's name (its BankConfig): capitals, digits and underscores (at most 60 here: our items keep
# "hma:<bank>" as their origin)
BANK_NAME = re.compile(r"[A-Z0-9_]{1,60}")


@dataclass(frozen=True)
class PushResult:
    """What a push did: items added to the far bank, removed from it, and left out because the far side takes none
    of their signal types."""

    added: int
    removed: int
    skipped: int


@dataclass
class PushState:
    """The checkpoint file of one push target: where the walk got to, and the content id of each pushed item."""

    url: str
    bank: str
    updated_at: float = float("-inf")
    item_id: int = 0
    pushed: dict[str, int] = field(default_factory=dict)   # item ref -> the far side's content id

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "bank": self.bank, "updated_at": None if self.updated_at == float("-inf")
                else self.updated_at, "item_id": self.item_id, "pushed": self.pushed}


def check_bank_name(bank: str) -> str:
    """``bank`` if it is a name HMA takes; InvalidInputError otherwise."""
    if not BANK_NAME.fullmatch(bank):
        raise InvalidInputError(f"bank {bank!r}: HMA's bank names are capitals, digits and underscores (1-60)")
    return bank


def read_push_state(path: Path, url: str, bank: str) -> PushState:
    """The checkpoint in ``path`` (a fresh one if there is none); refused if it was kept for another bank."""
    if not path.exists():
        return PushState(url, bank)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = PushState(str(data["url"]), str(data["bank"]),
                          float("-inf") if data["updated_at"] is None else float(data["updated_at"]),
                          int(data["item_id"]), {str(k): int(v) for k, v in dict(data["pushed"]).items()})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ListFormatError(path, None, f"not a push checkpoint: {exc}") from None
    if (state.url, state.bank) != (url, bank):
        raise InvalidInputError(f"{path}: the checkpoint of a push to {state.bank} at {state.url}, not to {bank} at "
                                f"{url}: give each bank its own checkpoint file")
    return state


def write_push_state(path: Path, state: PushState) -> None:
    """Keep ``state`` in ``path`` (written whole, then renamed: a crash leaves the old one)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state.to_json()), encoding="utf-8")
    partial.replace(path)


def push_signals(url: str, bank: str, engine: Engine, member: str | int, checkpoint_file: Path,
                 key: str | None = None, max_tlp: str = DEFAULT_EXPORT_TLP, timeout: float = 60.0,
                 own_service: bool = False) -> PushResult:
    """Push to the HMA bank ``bank`` at ``url`` (HMA's root: its routes are under ``/c``) what changed among the
    items ``member`` may see since the checkpoint kept in ``checkpoint_file``; ``key``: sent as a bearer token;
    ``own_service``: the far side is the member's own, so other members' items up to ``max_tlp`` may go there
    (otherwise only up to green)."""
    import httpx

    check_bank_name(bank)
    if max_tlp not in TLP_LEVELS:
        raise InvalidInputError(f"TLP {max_tlp!r} is not one of {', '.join(TLP_LEVELS)}")
    if max_tlp == "red":
        raise InvalidInputError("TLP:RED is for its named recipients only: it is never pushed (--max-tlp at most "
                                "amber+strict)")
    viewer = get_member(engine, member).id
    base = url.rstrip("/")
    state = read_push_state(checkpoint_file, base, bank)
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    def call(method: str, path: str, **options: Any) -> Any:
        try:
            answer = httpx.request(method, f"{base}/c{path}", headers=headers, timeout=timeout, **options)
        except httpx.HTTPError as exc:
            raise LinkAnswerError(f"media push: {base}/c{path}: {exc}") from None
        if answer.status_code >= 400:
            raise LinkAnswerError(f"media push: {method} {base}/c{path}: HTTP {answer.status_code} "
                                  f"{answer.text[:300]}")
        try:
            return answer.json()
        except ValueError:
            raise LinkAnswerError(f"media push: {method} {base}/c{path}: the answer is not JSON") from None

    takes = {str(t.get("name")) for t in call("GET", "/signal_type")
             if isinstance(t, dict) and float(t.get("enabled_ratio", 1.0)) > 0}
    call("GET", f"/bank/{bank}")   # 404 (refused) when there is no such bank
    added = removed = skipped = 0

    def remove(ref: str) -> None:
        nonlocal removed
        call("DELETE", f"/bank/{bank}/content/{state.pushed[ref]}")
        del state.pushed[ref]
        removed += 1

    rows = visible_rows(engine, viewer)
    # pushed before, and no longer to be seen by the member at all (its contributor made it TLP:RED or
    # amber+strict): removed first, whenever it changed
    for ref in sorted(set(state.pushed) - {row.item.ref for _, row in rows}):
        remove(ref)
        write_push_state(checkpoint_file, state)
    for (at, item_id), row in rows:
        if (at, item_id) <= (state.updated_at, state.item_id):
            continue
        item = row.item
        ceiling = max_tlp if own_service or item.member_id == viewer else min(max_tlp, "green", key=TLP_LEVELS.index)
        shareable = item.status == "active" and tlp_allows(item.tlp, ceiling) and item.tlp != "red"
        if shareable and item.ref not in state.pushed:
            signals = {name: value for name, value in item_signals(item, row.signature) if name in takes}
            if signals:
                labels = {"content_type": item.content_type, "tlp": item.tlp,
                          **({"group": item.group} if item.group else {})}
                answer = call("POST", f"/bank/{bank}/signal", json=signals, params=labels)
                if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
                    raise LinkAnswerError(f"media push: {base}/c/bank/{bank}/signal: no content id in the answer")
                state.pushed[item.ref] = answer["id"]
                added += 1
                state.updated_at, state.item_id = at, item_id
                write_push_state(checkpoint_file, state)   # accepted: kept before anything else is sent
                continue
            skipped += 1
        elif not shareable and item.ref in state.pushed:
            remove(item.ref)
            state.updated_at, state.item_id = at, item_id
            write_push_state(checkpoint_file, state)
            continue
        state.updated_at, state.item_id = at, item_id   # nothing to send: kept with the next write
    write_push_state(checkpoint_file, state)
    return PushResult(added, removed, skipped)


# -- the far side: HMA's curator routes over our bank (api/routes/media.py serves them under /media/hma) --------


def signal_type_names() -> list[str]:
    """The signal types our bank takes, as threatexchange names them (HMA's GET /c/signal_type)."""
    return [cls.get_name() for cls in signal_types().values()]


def bank_signals(engine: Engine, member: str | int, user: str, bank: str, signals: dict[str, str],
                 labels: Labels) -> Contribution:
    """HMA's ``POST /c/bank/<NAME>/signal`` on our bank: one item of these signals (each checked by its
    threatexchange type) under ``member``; the same file again relabels that member's item (HMA's content id is
    the item's number). InvalidInputError naming the bad signal."""
    check_bank_name(bank)
    if not signals:
        raise InvalidInputError("no signals given")
    types = signal_types()
    kinds = {cls.get_name(): kind for kind, cls in types.items()}
    values: dict[str, str] = {}
    signature = None
    for name, value in signals.items():
        kind = kinds.get(name)
        if kind is None:
            raise InvalidInputError(f"no such signal type {name!r} (this bank takes {', '.join(kinds)})")
        if not isinstance(value, str):
            raise InvalidInputError(f"invalid {name} signal: not a string")
        try:
            values[kind] = str(types[kind].validate_signal_str(value if kind == "vpdq" else value.strip().lower()))
            if kind == "vpdq":   # a video's vPDQ: kept as its signature, matched by its frames
                signature = vpdq_from_signal(values[kind])
        except ValueError as exc:
            raise InvalidInputError(f"invalid {name} signal: {exc}") from None
    done = contribute_hashes(engine, member, user, labels, md5=values.get("md5"), sha256=values.get("sha256"),
                             pdq=values.get("pdq"), signature=signature, origin=f"hma:{bank}")
    if done.item.status == "disputed" and not done.created:
        # removed through this API before (remove_content), added again: it matches again
        item = change_status(engine, done.item.id, member, user, "reinstate", f"added to bank {bank} again "
                                                                                "(HMA's curator API)")
        return Contribution(item, False)
    return done


def remove_content(engine: Engine, member: str | int, user: str, bank: str, content_id: int) -> int:
    """HMA's ``DELETE /c/bank/<NAME>/content/<id>`` on our bank: ``member``'s own active item disputed by its
    contributor, which stops it matching for everyone and keeps its history (not withdrawn: a withdrawal is for
    good, and the pusher removes an item it disputed, which may come back); 1, or 0 when that member has no such
    active item (HMA's count)."""
    check_bank_name(bank)
    owner = get_member(engine, member)
    try:
        item = get_item(engine, content_id, owner.id)
    except NotFoundError:
        return 0
    if item.member_id != owner.id or item.status != "active":
        return 0
    try:
        change_status(engine, content_id, owner.id, user, "dispute", f"removed from bank {bank} (HMA's curator API)")
    except ConflictError:   # withdrawn meanwhile
        return 0
    return 1
