"""UN/EDIFACT interchanges (ISO 9735) as airlines send them: service string advice, envelopes, segments.

The syntax layer (separators, release character) is pydifact's tokenizer. Around it, what real
departure-control and reservation systems send and a passenger-information unit must still read:

* line breaks anywhere, even inside a segment: transmission gateways wrap messages at a fixed
  width, so CR and LF are dropped before tokenizing (the wrapped names and phone numbers of the
  GTAS test messages read back whole only this way);
* whitespace before a segment tag;
* a UNA whose terminator a word processor turned into a typographic apostrophe, or whose decimal
  mark is missing (five characters): read as meant, with a warning;
* an unterminated last segment: read, with a warning;
* several interchanges one after another (a gateway's batch, a list resent with an addition):
  each is read, its segments numbered on from the start of the text.

What is rejected whole, with the segment number: no UNB, no UNZ, unbalanced UNH/UNT or UNG/UNE,
a control reference longer than ISO 9735 allows (an..14), a message type other than expected, and
anything after an UNZ that is not a whole interchange: a traveller there would never be screened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser
from pydifact.token import Token
from pydifact.tokenizer import Tokenizer

from jointwatch.errors import MessageFormatError

MAX_REFERENCE = 14          # ISO 9735: control references are an..14
TYPOGRAPHIC = {"’": "'", "‘": "'", "´": "'", "`": "'"}


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its position in the interchange (1 = first after UNA), tag and data elements."""

    position: int
    tag: str
    elements: tuple[tuple[str, ...], ...]

    def get(self, element: int, component: int = 0) -> str:
        """The value at ``element`` (0 = first after the tag), ``component``; '' when absent."""
        if element >= len(self.elements):
            return ""
        parts = self.elements[element]
        return parts[component].strip() if component < len(parts) else ""

    def element(self, element: int) -> tuple[str, ...]:
        """All components of one data element (empty tuple when absent)."""
        return self.elements[element] if element < len(self.elements) else ()

    @property
    def where(self) -> str:
        return f"segment {self.position} ({self.tag})"


@dataclass
class Message:
    """One UNH…UNT message: its type (PAXLST, PNRGOV …), references and the segments between."""

    reference: str
    type: str
    version: str
    access_reference: str            # UNH S010 common access reference: ties the parts of a multi-part message
    part: int | None                 # UNH S010 sequence of transfers
    last_part: bool                  # "F": final part (or the only one)
    segments: list[Segment] = field(default_factory=list)
    header: Segment | None = None


@dataclass
class Interchange:
    """A whole UNB…UNZ interchange, with the warnings its reading gave."""

    sender: str
    recipient: str
    prepared: str                    # UNB date:time as sent
    reference: str
    messages: list[Message]
    warnings: list[str]
    characters: Characters


def _service_string(text: str, path: str, warnings: list[str]) -> tuple[Characters | None, str]:
    """The separators a UNA declares (None: the defaults) and the text after it."""
    start = text.find("UNA")
    if start == -1 or text[:start].strip():
        return None, text
    raw = text[start + 3:start + 9]
    if len(raw) == 6 and raw[5] in TYPOGRAPHIC:
        warnings.append(f"UNA segment terminator {raw[5]!r} read as an apostrophe")
        raw = raw[:5] + TYPOGRAPHIC[raw[5]]
    if len(raw) == 6 and raw[5] in "\r\n" and raw[4] not in "\r\n":
        # five characters: the decimal mark is the one left out (the others all appear in use)
        short = raw[:5]
        warnings.append(f"UNA has five service characters {short!r}; read without a decimal mark")
        characters = Characters(component_separator=short[0], data_separator=short[1], decimal_point=".",
                                escape_character=short[2], reserved=short[3], segment_terminator=short[4])
        return characters, text[start + 8:]
    if len(raw) < 6:
        raise MessageFormatError(path, "UNA", "service string advice is shorter than six characters")
    if len(set(raw[:2] + raw[3] + raw[5])) < 4:
        raise MessageFormatError(path, "UNA", f"service characters {raw!r} repeat a separator")
    characters = Characters.from_str("UNA" + raw)
    return characters, text[start + 9:]


def _elements(raw: list[str | list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple((e,) if isinstance(e, str) else tuple(e) for e in raw)


def _segment_texts(characters: Characters) -> re.Pattern[str]:
    """Segments as raw text: anything up to an unreleased terminator."""
    terminator, release = re.escape(characters.segment_terminator), re.escape(characters.escape_character)
    return re.compile(f"(?:[^{terminator}{release}]|{release}.)*{terminator}", re.DOTALL)


def _split_after_unz(body: str, characters: Characters) -> tuple[str, str]:
    """The text up to and with the first UNZ segment, and the text after it ('' when there is no UNZ).

    Only where the interchange ends is found here; the syntax of what it holds is pydifact's."""
    separators = (characters.data_separator, characters.component_separator, characters.segment_terminator)
    for raw in _segment_texts(characters).finditer(body):
        segment = raw.group().replace("\r", "").replace("\n", "").lstrip(" \t")
        if segment[:3].upper() == "UNZ" and segment[3:4] in separators:
            return body[:raw.end()], body[raw.end():]
    return body, ""


def _separators_of(text: str, path: str, warnings: list[str],
                   previous: Characters | None) -> tuple[Characters, str]:
    """The separators of the interchange ``text`` starts with, and its text after any UNA.

    Without UNA an interchange uses ISO 9735's defaults, unless it follows one in the same text
    whose separators its UNB visibly uses (that data separator after the tag, and that segment
    terminator ending it before the default one would)."""
    characters, body = _service_string(text, path, warnings)
    if characters is not None:
        return characters, body
    default = Characters()
    if previous is None or not body.startswith("UNB" + previous.data_separator):
        return default, body
    ends = body.find(previous.segment_terminator)
    default_ends = body.find(default.segment_terminator)
    if ends != -1 and (default_ends == -1 or ends < default_ends):
        return previous, body
    return default, body


def _next_interchange(text: str, path: str, offset: int = 0, previous: Characters | None = None
                      ) -> tuple[list[Segment], Characters, list[str], str]:
    """The segments of the first interchange of ``text`` numbered on from ``offset``, its separators,
    the warnings its reading gave, and the text after its UNZ."""
    warnings: list[str] = []
    characters, body = _separators_of(text.lstrip("\ufeff \t\r\n"), path, warnings, previous)
    if characters.segment_terminator == "'":
        typed = re.subn(r"[’‘](?=[ \t]*\r?\n)", "'", body)
        body = typed[0]
        if typed[1]:
            warnings.append(f"{typed[1]} typographic apostrophe(s) at line ends read as segment terminators")
    body, rest = _split_after_unz(body, characters)
    body = body.replace("\r", "").replace("\n", "").strip()
    terminator = characters.segment_terminator
    if body and not body.endswith(terminator) or body.endswith(characters.escape_character + terminator):
        warnings.append("the last segment has no terminator")
        body += terminator
    tokens: Iterator[Token] = Tokenizer().get_tokens(body, characters)
    segments: list[Segment] = []
    try:
        for position, raw in enumerate(Parser().convert_tokens_to_raw_segments(tokens), start=offset + 1):
            tag = raw[0] if isinstance(raw[0], str) else ":".join(raw[0])
            tag = tag.strip()
            if not (3 <= len(tag) <= 3 and tag.isalnum()):
                where = f"segment {position}" + (f" after {segments[-1].tag}" if segments else "")
                raise MessageFormatError(path, where, f"{tag[:20]!r} is not a segment tag")
            segments.append(Segment(position, tag.upper(), _elements(raw[1:])))
    except EDISyntaxError as exc:
        where = f"segment {offset + len(segments) + 1}"
        raise MessageFormatError(path, where, f"EDIFACT syntax: {exc}") from None
    return segments, characters, warnings, rest


def _reference(segment: Segment, element: int, path: str, what: str) -> str:
    value = segment.get(element)
    if len(value) > MAX_REFERENCE:
        raise MessageFormatError(path, segment.where,
                                 f"{what} {value[:30]!r} is longer than {MAX_REFERENCE} characters (ISO 9735 an..14)")
    return value


def _message(header: Segment, path: str) -> Message:
    reference = _reference(header, 0, path, "message reference")
    if not header.get(1):
        raise MessageFormatError(path, header.where, "UNH has no message type")
    part = header.get(3, 0)
    return Message(reference=reference, type=header.get(1, 0).upper(),
                   version=":".join(c for c in header.element(1)[1:3] if c),
                   access_reference=header.get(2), part=int(part) if part.isdigit() else None,
                   last_part=header.get(3, 1).upper() in ("", "F"), header=header)


def read_interchanges(text: str, path: str = "<message>", expected: tuple[str, ...] = ()) -> list[Interchange]:
    """Every interchange of a text, in order, envelopes checked; raises MessageFormatError naming the segment.

    ``expected``: the message types allowed (e.g. ("PAXLST",)); empty allows any. Text after an
    UNZ must be another whole interchange (UNA or UNB … UNZ): anything else refuses the whole text,
    since a traveller in it would be neither screened nor answered."""
    interchanges: list[Interchange] = []
    rest, offset, previous = text, 0, None
    while True:
        segments, characters, warnings, rest = _next_interchange(rest, path, offset, previous)
        if not segments:
            raise MessageFormatError(path, f"after segment {offset}" if offset else None, "no EDIFACT segments")
        interchanges.append(_interchange(segments, characters, warnings, path, expected))
        offset, previous = segments[-1].position, characters
        tail = rest.strip("\ufeff \t\r\n")
        if not tail:
            return interchanges
        if not tail.startswith(("UNA", "UNB")):
            raise MessageFormatError(path, f"after segment {offset} (UNZ)",
                                     f"text after UNZ is not an interchange (UNB … UNZ): {tail[:30]!r}")


def read_interchange(text: str, path: str = "<message>", expected: tuple[str, ...] = ()) -> Interchange:
    """The one interchange of a text (a reply, a single message); more than one is an error."""
    interchanges = read_interchanges(text, path, expected)
    if len(interchanges) > 1:
        raise MessageFormatError(path, None, f"{len(interchanges)} interchanges where one was expected")
    return interchanges[0]


def _interchange(segments: list[Segment], characters: Characters, warnings: list[str], path: str,
                 expected: tuple[str, ...]) -> Interchange:
    """One interchange from its segments (UNB first, UNZ last), its envelopes checked."""
    if segments[0].tag != "UNB":
        raise MessageFormatError(path, segments[0].where, "an interchange starts with UNB")
    unb = segments[0]
    reference = _reference(unb, 4, path, "interchange control reference")
    messages: list[Message] = []
    current: Message | None = None
    group_open: Segment | None = None
    unz: Segment | None = None
    for segment in segments[1:]:
        if unz is not None:     # cannot happen (the text is cut after UNZ); never pass over a segment
            raise MessageFormatError(path, segment.where, "segment after UNZ")
        if segment.tag == "UNG":
            if group_open or current:
                raise MessageFormatError(path, segment.where, "UNG inside an open group or message")
            _reference(segment, 4, path, "group reference")
            group_open = segment
        elif segment.tag == "UNE":
            if group_open is None or current:
                raise MessageFormatError(path, segment.where, "UNE without an open group")
            group_open = None
        elif segment.tag == "UNH":
            if current:
                raise MessageFormatError(path, segment.where,
                                         f"UNH while message {current.reference!r} is still open (no UNT)")
            current = _message(segment, path)
            if expected and current.type not in expected:
                raise MessageFormatError(path, segment.where,
                                         f"message type {current.type!r}, expected {' or '.join(expected)}")
        elif segment.tag == "UNT":
            if current is None:
                raise MessageFormatError(path, segment.where, "UNT without UNH")
            _reference(segment, 1, path, "message reference")
            declared = segment.get(0)
            counted = len(current.segments) + 2
            if declared.isdigit() and int(declared) != counted:
                warnings.append(f"{segment.where}: message {current.reference!r} declares {declared} segments, "
                                f"has {counted}")
            messages.append(current)
            current = None
        elif segment.tag == "UNZ":
            if current:
                raise MessageFormatError(path, segment.where, f"UNZ while message {current.reference!r} is open")
            if group_open:
                raise MessageFormatError(path, segment.where, "UNZ while a group is open (no UNE)")
            if _reference(segment, 1, path, "interchange control reference") != reference:
                warnings.append(f"{segment.where}: control reference {segment.get(1)!r} differs from UNB's "
                                f"{reference!r}")
            unz = segment
        elif current is None:
            raise MessageFormatError(path, segment.where, "segment outside a message (before UNH or after UNT)")
        else:
            current.segments.append(segment)
    if current is not None:
        where = f"message {current.reference!r} at {current.header.where}" if current.header else None
        raise MessageFormatError(path, where, "no UNT: the message is cut short")
    if unz is None:
        raise MessageFormatError(path, f"after segment {segments[-1].position}", "no UNZ: the interchange is cut short")
    if not messages:
        raise MessageFormatError(path, None, "the interchange holds no message (UNH … UNT)")
    return Interchange(sender=unb.get(1), recipient=unb.get(2), prepared=":".join(unb.element(3)),
                       reference=reference, messages=messages, warnings=warnings, characters=characters)
