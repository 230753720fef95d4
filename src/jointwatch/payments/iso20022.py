"""ISO 20022 credit transfers: pacs.008 (FI to FI customer credit transfer) and pain.001
(customer credit transfer initiation), any message version, read element by element.

The XML is read with the hardened reader of the list parsers (``sources.xmlsafe``): a
DOCTYPE is refused, entities are never expanded and the network is never touched. Each
transaction (``CdtTrfTxInf``) becomes one Payment; a transaction with a wrong field becomes
an UnreadMessage naming its position and the field's path, and the rest of the file is read.
In pain.001 the debtor, its account and agent are given once per payment information block
(``PmtInf``) and apply to each of its transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from jointwatch.errors import ListFormatError, MessageFormatError
from jointwatch.payments.model import (
    Account,
    Agent,
    FieldError,
    Party,
    Payment,
    UnreadMessage,
    parse_account,
    parse_amount,
    parse_bic,
    parse_currency,
    parse_iban,
)
from jointwatch.sources import children, iter_elements, local, text, texts

MAX_TEXT = 2_000   # no field of these messages is longer than 140 characters; anything far over is hostile
PARTY_TAGS = {"Dbtr": "debtor", "Cdtr": "creditor", "UltmtDbtr": "ultimate_debtor",
              "UltmtCdtr": "ultimate_creditor", "InitgPty": "initiating_party"}
AGENT_TAGS = {"DbtrAgt": "debtor_agent", "CdtrAgt": "creditor_agent", "IntrmyAgt1": "intermediary_agent",
              "IntrmyAgt2": "intermediary_agent", "IntrmyAgt3": "intermediary_agent",
              "InstgAgt": "instructing_agent", "InstdAgt": "instructed_agent"}
ACCOUNT_OF = {"Dbtr": "DbtrAcct", "Cdtr": "CdtrAcct"}


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def _checked(value: str | None, where: str) -> str | None:
    if value is not None and len(value) > MAX_TEXT:
        raise FieldError(where, f"{len(value)} characters (at most {MAX_TEXT})")
    return value


def _address(element: etree._Element | None, where: str) -> tuple[list[str], str | None]:
    """Postal address lines (structured parts joined, or AdrLine) and the country code."""
    if element is None:
        return [], None
    street = " ".join(t for t in (text(element, "StrtNm"), text(element, "BldgNb")) if t)
    town = " ".join(t for t in (text(element, "PstCd"), text(element, "TwnNm")) if t)
    lines = [line for line in (street, town, *texts(element, "AdrLine")) if line]
    for line in lines:
        _checked(line, f"{where}/PstlAdr")
    country = text(element, "Ctry")
    if country is not None and (len(country) != 2 or not country.isalpha() or not country.isupper()):
        raise FieldError(f"{where}/PstlAdr/Ctry", f"country {country!r} is not an ISO 3166 alpha-2 code")
    return lines, country


def _party(element: etree._Element, role: str, where: str) -> Party:
    name = _checked(text(element, "Nm"), f"{where}/Nm")
    address, country = _address(_child(element, "PstlAdr"), where)
    party = Party(role=role, name=name, address=address, country=country, location=where)
    ident = _child(element, "Id")
    if ident is not None:
        org, private = _child(ident, "OrgId"), _child(ident, "PrvtId")
        if org is not None:
            party.schema = "Organization"
            bic = text(org, "AnyBIC")
            if bic:
                party.bic = parse_bic(bic, f"{where}/Id/OrgId/AnyBIC")
            party.identifiers += [v for v in (text(org, "LEI"),) if v] + texts(org, "Othr", "Id")
        elif private is not None:
            party.schema = "Person"
            party.birth_date = text(private, "DtAndPlcOfBirth", "BirthDt")
            party.identifiers += texts(private, "Othr", "Id")
    if party.country is None:
        party.country = text(element, "CtryOfRes")
    if not name and party.bic is None and not party.identifiers:
        raise FieldError(f"{where}/Nm", "the party has neither a name nor an identifier")
    return party


def _account(element: etree._Element, where: str) -> Account:
    ident = _child(element, "Id")
    if ident is None:
        raise FieldError(f"{where}/Id", "account without Id")
    iban = text(ident, "IBAN")
    if iban:
        return parse_iban(iban, f"{where}/Id/IBAN")
    other = text(ident, "Othr", "Id")
    if not other:
        raise FieldError(f"{where}/Id", "account Id has neither IBAN nor Othr/Id")
    return parse_account(_checked(other, f"{where}/Id/Othr/Id") or "", f"{where}/Id/Othr/Id")


def _agent(element: etree._Element, role: str, where: str) -> Agent:
    inst = _child(element, "FinInstnId")
    if inst is None:
        raise FieldError(f"{where}/FinInstnId", "agent without FinInstnId")
    bic = text(inst, "BICFI") or text(inst, "BIC")   # BIC in message versions before 2019
    _, country = _address(_child(inst, "PstlAdr"), f"{where}/FinInstnId")
    agent = Agent(role=role, bic=parse_bic(bic, f"{where}/FinInstnId/BICFI") if bic else None,
                  name=_checked(text(inst, "Nm"), f"{where}/FinInstnId/Nm"), country=country, location=where)
    if agent.bic is None and agent.name is None and text(inst, "ClrSysMmbId", "MmbId") is None:
        raise FieldError(f"{where}/FinInstnId", "agent with neither BICFI, name nor clearing member id")
    return agent


def _parties_and_agents(element: etree._Element, prefix: str, payment: Payment) -> None:
    for child in element:
        tag = local(child.tag)
        where = f"{prefix}/{tag}"
        if tag in PARTY_TAGS:
            party = _party(child, PARTY_TAGS[tag], where)
            account_el = _child(element, ACCOUNT_OF[tag]) if tag in ACCOUNT_OF else None
            if account_el is not None:
                party.account = _account(account_el, f"{prefix}/{ACCOUNT_OF[tag]}")
            payment.parties.append(party)
        elif tag in AGENT_TAGS:
            payment.agents.append(_agent(child, AGENT_TAGS[tag], where))


def _remittance(tx: etree._Element) -> list[str]:
    info = _child(tx, "RmtInf")
    if info is None:
        return []
    lines = texts(info, "Ustrd")
    # structured remittance: the creditor's reference and any additional information are free text too
    for strd in children(info, "Strd"):
        lines += texts(strd, "CdtrRefInf", "Ref") + texts(strd, "AddtlRmtInf")
    for line in lines:
        _checked(line, "CdtTrfTxInf/RmtInf")
    return lines


def _transaction(tx: etree._Element, kind: str, position: int, path: str, group: dict[str, str | None],
                 block: etree._Element | None) -> Payment:
    ids = _child(tx, "PmtId")
    reference = text(ids, "EndToEndId") if ids is not None else None
    if not reference:
        raise FieldError("CdtTrfTxInf/PmtId/EndToEndId", "end-to-end id is missing")
    amount_tag = "IntrBkSttlmAmt" if kind == "pacs.008" else "Amt/InstdAmt"
    amount_el = _child(tx, "IntrBkSttlmAmt") if kind == "pacs.008" else (
        _child(_child(tx, "Amt"), "InstdAmt") if _child(tx, "Amt") is not None else None)
    where = f"CdtTrfTxInf/{amount_tag}"
    if amount_el is None:
        raise FieldError(where, "amount is missing")
    payment = Payment(
        format=kind, position=position, reference=reference,
        amount=parse_amount(amount_el.text, where), currency=parse_currency(amount_el.get("Ccy"), f"{where}/@Ccy"),
        message_id=group.get("msg_id"), uetr=text(ids, "UETR") if ids is not None else None,
        settlement_date=text(tx, "IntrBkSttlmDt") or group.get("date"),
        charges=text(tx, "ChrgBr") or group.get("charges"), purpose=text(tx, "Purp", "Cd"), source=path)
    if block is not None:
        _parties_and_agents(block, "PmtInf", payment)
    _parties_and_agents(tx, "CdtTrfTxInf", payment)
    payment.remittance = _remittance(tx)
    if payment.party("creditor") is None:
        raise FieldError("CdtTrfTxInf/Cdtr", "creditor is missing")
    if payment.party("debtor") is None:
        raise FieldError("CdtTrfTxInf/Dbtr" if kind == "pacs.008" else "PmtInf/Dbtr", "debtor is missing")
    return payment


class _Block:
    """A pain.001 payment information block's own elements (debtor, account, agent), copied
    when its first transaction is read, because the reader frees elements as it goes."""

    def __init__(self, element: etree._Element) -> None:
        self.element = etree.Element("PmtInf")
        for child in element:
            if local(child.tag) != "CdtTrfTxInf":
                self.element.append(_copy(child))
        self.date = text(element, "ReqdExctnDt", "Dt") or text(element, "ReqdExctnDt")
        self.charges = text(element, "ChrgBr")


def _copy(element: etree._Element) -> etree._Element:
    """A namespace-free deep copy (local tags, text, attributes)."""
    out = etree.Element(local(element.tag), {k: v for k, v in element.attrib.items() if isinstance(k, str)})
    out.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            out.append(_copy(child))
    return out


def read_iso20022(path: Path) -> Iterator[Payment | UnreadMessage]:
    """Every transaction of a pacs.008 or pain.001 file, or the error of each one that is wrong."""
    group: dict[str, str | None] = {}
    block: _Block | None = None
    position = 0
    kind = ""
    try:
        for tag, element in iter_elements(path, {"GrpHdr", "CdtTrfTxInf", "PmtInf"}):
            if tag == "root":
                if local(element.tag) not in ("Document", "AppHdr", "BusMsgEnvlp", "Envelope", "DataPDU"):
                    raise MessageFormatError(path, f"<{local(element.tag)}>",
                                             "not an ISO 20022 document (expected <Document>)")
                continue
            if tag == "GrpHdr":
                group = {"msg_id": text(element, "MsgId"), "charges": None,
                         "date": text(element, "IntrBkSttlmDt")}
                continue
            if tag == "PmtInf":
                block = None   # the next block brings its own debtor
                continue
            position += 1
            parent = element.getparent()
            parent_tag = local(parent.tag) if parent is not None else ""
            kind = "pain.001" if parent_tag == "PmtInf" else "pacs.008" if parent_tag == "FIToFICstmrCdtTrf" else ""
            if not kind:
                yield UnreadMessage(str(path), position, f"<{parent_tag}>/CdtTrfTxInf",
                                   "a credit transfer outside pacs.008 FIToFICstmrCdtTrf or pain.001 PmtInf")
                continue
            if kind == "pain.001" and block is None and parent is not None:
                block = _Block(parent)
            context = dict(group)
            if block is not None and kind == "pain.001":
                context["date"], context["charges"] = block.date, block.charges
            try:
                yield _transaction(element, kind, position, str(path), context,
                                   block.element if block is not None and kind == "pain.001" else None)
            except FieldError as error:
                ids = _child(element, "PmtId")
                yield UnreadMessage(str(path), position, f"{error.field} (transaction at line {element.sourceline})",
                                   error.reason, text(ids, "EndToEndId") if ids is not None else None)
    except ListFormatError as error:
        if "DOCTYPE" in error.reason or position == 0:
            raise MessageFormatError(path, error.location, error.reason) from None
        # the file breaks off: what was read before stays screened, the break is reported
        yield UnreadMessage(str(path), position + 1, error.location or "XML", error.reason)
