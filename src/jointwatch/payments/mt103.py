"""SWIFT MT103 (single customer credit transfer) in FIN block format.

A file holds one or more messages, each ``{1:…}{2:…}{3:…}{4:\n:20:…\n-}{5:…}``, optionally
separated by ``$`` as some systems write them. Block 1 names the sender's BIC, block 2 the
receiver's (input ``I103``) or carries the sender in its message input reference (output
``O103``); block 3 the UETR (tag 121); block 4 the fields. The fields screened are the
ordering customer (:50A: BIC, :50F: structured, :50K: free), the beneficiary (:59:, :59A:,
:59F:), the banks (:52a: :53a: :54a: :56a: :57a:) and the free text (:70: :72: :77B:). A
message with a wrong field is reported by position and tag; the other messages are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from jointwatch.errors import MessageFormatError
from jointwatch.payments.model import (
    Agent,
    FieldError,
    Party,
    Payment,
    UnreadMessage,
    parse_account,
    parse_amount,
    parse_bic,
    parse_currency,
)

MAX_FILE_BYTES = 512 * 1024**2
MAX_MESSAGE_CHARS = 100_000          # an MT103 is at most 10,000 characters; far over is not one
_FIELD = re.compile(r"^:(\d{2}[A-Z]?):", re.MULTILINE)
_32A = re.compile(r"^(\d{6})([A-Z]{3})(\d{1,15},\d{0,3})$")
_BIC_LINE = re.compile(r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
AGENT_FIELDS = {"52": "debtor_agent", "53": "senders_correspondent", "54": "receivers_correspondent",
                "56": "intermediary_agent", "57": "creditor_agent"}
FREE_TEXT = ("70", "72", "77B")


def split_messages(data: str) -> list[tuple[int, str]]:
    """(line number, text) of each message: a new one starts at every ``{1:`` block."""
    starts = [m.start() for m in re.finditer(r"\{1:", data)]
    if not starts:
        return [(1, data)] if data.strip() else []
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        out.append((data.count("\n", 0, start) + 1, data[start:end].strip().rstrip("$").strip()))
    return out


def _blocks(message: str) -> dict[str, str]:
    """The top-level blocks {1: 2: 3: 4: 5:} by number (nested braces of block 3 kept)."""
    blocks: dict[str, str] = {}
    i = 0
    while i < len(message):
        if message[i] != "{":
            if message[i].strip():
                raise FieldError("blocks", f"unexpected {message[i]!r} between blocks at character {i + 1}")
            i += 1
            continue
        colon = message.find(":", i)
        if colon < 0:
            raise FieldError("blocks", "a block without its number")
        number = message[i + 1:colon]
        depth, j = 0, i
        while j < len(message):
            if message[j] == "{":
                depth += 1
            elif message[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth != 0:
            raise FieldError(f"block {number}", "block is not closed with '}'")
        blocks[number] = message[colon + 1:j]
        i = j + 1
    return blocks


def _fields(block4: str) -> list[tuple[str, str]]:
    """(tag, value) in order; value lines joined with newlines."""
    body = block4.replace("\r\n", "\n").strip("\n")
    if body.endswith("-"):
        body = body[:-1]
    found = list(_FIELD.finditer(body))
    if not found or body[:found[0].start()].strip():
        raise FieldError("block 4", "block 4 does not start with a field tag (:20:)")
    out = []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(body)
        out.append((m.group(1), body[m.end():end].strip("\n")))
    return out


def _account_and_rest(value: str, tag: str) -> tuple[str | None, list[str]]:
    lines = [line.strip() for line in value.split("\n")]
    if lines and lines[0].startswith("/"):
        return lines[0][1:].strip() or None, lines[1:]
    return None, lines


def _party(tag: str, value: str, role: str) -> Party:
    where = f":{tag}:"
    account, lines = _account_and_rest(value, tag)
    party = Party(role=role, location=where)
    option = tag[2:]
    if option == "A":
        if not lines or not _BIC_LINE.match(lines[0]):
            raise FieldError(where, "option A needs a BIC on the line after the account")
        party.bic = parse_bic(lines[0], where)
        party.schema = "Organization"
    elif option == "F":
        if account is None and lines and "/" in lines[0] and not lines[0][:2].isdigit():
            # party identifier as code/country/identifier (e.g. CCPT/NL/X1234567): no account
            party.identifiers.append(lines[0].split("/", 2)[-1])
            lines = lines[1:]
        names, address = [], []
        for line in lines:
            number, _, rest = line.partition("/")
            if number == "1":
                names.append(rest)
            elif number == "2":
                address.append(rest)
            elif number == "3":
                country, _, town = rest.partition("/")
                party.country = country or None
                if town:
                    address.append(town)
            elif number == "4" and len(rest) == 8 and rest.isdigit():
                party.birth_date = f"{rest[:4]}-{rest[4:6]}-{rest[6:]}"
                party.schema = "Person"
            elif number in ("6", "7"):
                party.identifiers.append(rest.split("/")[-1])
            elif number not in ("5", "8"):
                raise FieldError(where, f"line {line!r} is not numbered 1/ to 8/ (option F)")
        if not names:
            raise FieldError(where, "option F needs a name on a 1/ line")
        party.name = " ".join(names)
        party.address = address
    elif option in ("", "K"):
        if not lines or not lines[0]:
            raise FieldError(where, "name and address are missing")
        party.name, party.address = lines[0], lines[1:]
    else:
        raise FieldError(where, f"option {option} is not an option of this field")
    if account:
        party.account = parse_account(account, where)
    return party


def _agent(tag: str, value: str) -> Agent:
    where = f":{tag}:"
    _, lines = _account_and_rest(value, tag)
    role = AGENT_FIELDS[tag[:2]]
    if tag.endswith("A"):
        if not lines:
            raise FieldError(where, "option A needs a BIC")
        return Agent(role=role, bic=parse_bic(lines[0], where), location=where)
    if tag.endswith("B"):
        return Agent(role=role, name=None, location=where)  # a location only
    return Agent(role=role, name=lines[0] if lines else None, location=where)


def _lt_bic(address: str, where: str) -> str:
    """A BIC from a 12-character logical terminal address (BIC8 + terminal letter + branch)."""
    if len(address) != 12:
        raise FieldError(where, f"logical terminal address {address!r} is not 12 characters")
    branch = address[9:12]
    return parse_bic(address[:8] + ("" if branch == "XXX" else branch), where)


def _message(text: str, position: int, path: str) -> Payment:
    blocks = _blocks(text)
    if "4" not in blocks:
        raise FieldError("block 4", "the text block {4: is missing")
    agents: list[Agent] = []
    if "1" in blocks:
        head = blocks["1"]
        if len(head) < 15 or not head.startswith("F01"):
            raise FieldError("block 1", f"basic header {head!r} is not F01 + logical terminal address")
        agents.append(Agent("sender", _lt_bic(head[3:15], "block 1"), location="block 1"))
    if "2" in blocks:
        app = blocks["2"]
        if app[:4] not in ("I103", "O103"):
            raise FieldError("block 2", f"message type {app[1:4]!r} is not 103")
        if app.startswith("I"):
            agents.append(Agent("receiver", _lt_bic(app[4:16], "block 2"), location="block 2"))
        else:
            # output: the sender is in the message input reference; block 1 is the receiver
            agents = [Agent("receiver", a.bic, location="block 1") for a in agents]
            agents.append(Agent("sender", _lt_bic(app[14:26], "block 2"), location="block 2"))
    uetr = None
    if "3" in blocks:
        m = re.search(r"\{121:([0-9a-fA-F-]{36})\}", blocks["3"])
        uetr = m.group(1) if m else None
    fields = _fields(blocks["4"])
    tags = [t for t, _ in fields]
    for required, what in (("20", "sender's reference"), ("32A", "value date, currency and amount")):
        if required not in tags:
            raise FieldError(f":{required}:", f"{what} is missing")
    values = dict(fields)
    m = _32A.match(values["32A"].strip())
    if not m:
        raise FieldError(":32A:", f"{values['32A']!r} is not YYMMDD + currency + amount with a decimal comma")
    try:
        value_date = date(2000 + int(m.group(1)[:2]), int(m.group(1)[2:4]), int(m.group(1)[4:]))
    except ValueError:
        raise FieldError(":32A:", f"value date {m.group(1)!r} is not a date") from None
    payment = Payment(format="MT103", position=position, reference=values["20"].strip(),
                      amount=parse_amount(m.group(3), ":32A:", decimal_comma=True),
                      currency=parse_currency(m.group(2), ":32A:"), uetr=uetr,
                      settlement_date=value_date.isoformat(), charges=values.get("71A", "").strip() or None,
                      agents=agents, source=path)
    if len(payment.reference) > 16:
        raise FieldError(":20:", f"reference {payment.reference!r} is longer than 16 characters")
    for tag, value in fields:
        if tag[:2] == "50":
            payment.parties.append(_party(tag, value, "debtor"))
        elif tag[:2] == "59":
            payment.parties.append(_party(tag, value, "creditor"))
        elif tag[:2] in AGENT_FIELDS:
            payment.agents.append(_agent(tag, value))
        elif tag in FREE_TEXT:
            payment.remittance += [line.strip() for line in value.split("\n") if line.strip()]
    if payment.party("debtor") is None:
        raise FieldError(":50a:", "ordering customer (:50A:, :50F: or :50K:) is missing")
    if payment.party("creditor") is None:
        raise FieldError(":59a:", "beneficiary customer (:59:, :59A: or :59F:) is missing")
    return payment


def read_mt103(path: Path) -> Iterator[Payment | UnreadMessage]:
    """Every MT103 of a file, or the error of each one that is wrong."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise MessageFormatError(path, None, f"larger than {MAX_FILE_BYTES // 1024**2} MiB")
        data = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise MessageFormatError(path, f"byte {error.start}", "not UTF-8 / SWIFT character set") from None
    if "\x00" in data:
        raise MessageFormatError(path, None, "contains NUL bytes")
    for position, (line, text) in enumerate(split_messages(data), start=1):
        try:
            if len(text) > MAX_MESSAGE_CHARS:
                raise FieldError("message", f"{len(text):,} characters (an MT103 has at most 10,000)")
            yield _message(text, position, str(path))
        except FieldError as error:
            reference = re.search(r":20:([^\n]*)", text)
            yield UnreadMessage(str(path), position, f"{error.field} (message at line {line})", error.reason,
                               reference.group(1).strip() if reference else None)
