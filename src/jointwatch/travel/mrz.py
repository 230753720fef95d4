"""ICAO Doc 9303 machine-readable zones: TD1 (3×30), TD2 (2×36), TD3 passports (2×44), MRV-A (2×44) and
MRV-B (2×36) visas.

Every check digit is verified (7-3-1 weights, '<' = 0, A = 10 … Z = 35), the composite one too, and a
failure names the field. A TD1 or TD2 document number longer than nine characters carries on into the
optional data, with its check digit after it (Doc 9303 part 5 and 6). Failed check digits do not stop the
reading: a border officer gets the data and the list of what failed, and the traveller is referred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jointwatch.errors import MessageFormatError
from jointwatch.travel.codes import gender_of
from jointwatch.travel.dates import yymmdd
from jointwatch.travel.model import Document, Problem, Traveller

WEIGHTS = (7, 3, 1)
LAYOUTS = {(3, 30): "TD1", (2, 36): "TD2", (2, 44): "TD3"}
ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


def char_value(char: str) -> int:
    """The value of one MRZ character in a check digit: digits as such, A=10 … Z=35, filler 0."""
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise ValueError(f"{char!r} is not an MRZ character")


def check_digit(data: str) -> str:
    """The Doc 9303 check digit of ``data``."""
    return str(sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


@dataclass
class MRZ:
    """What a machine-readable zone says, and which of its check digits failed."""

    layout: str                     # TD1, TD2, TD3, MRV-A, MRV-B
    document_code: str              # P, I, A, C, V … (first two characters, fillers dropped)
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None
    sex: str | None                 # male, female, unknown
    expiry: date | None
    optional_data: str
    failed: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.failed

    def traveller(self, index: int = 1, location: str = "MRZ") -> Traveller:
        """The traveller this document describes, with failed checks as problems."""
        document = Document(number=self.document_number, type=self.document_code,
                            issuing_country=self.issuing_state, expiry=self.expiry)
        return Traveller(index=index, location=location, surname=self.surname, given_names=self.given_names,
                         gender=self.sex, birth_date=self.birth_date, nationality=self.nationality,
                         documents=[document] if self.document_number else [], problems=list(self.failed))


def _text(value: str) -> str:
    return " ".join(value.replace("<", " ").split())


def _name(zone: str) -> tuple[str, str]:
    primary, _, secondary = zone.partition("<<")
    return _text(primary), _text(secondary)


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where
        self.failed: list[Problem] = []

    def check(self, what: str, data: str, digit: str) -> None:
        if digit == "<" and not data.strip("<"):
            return  # an absent optional field may have a filler for its check digit
        expected = check_digit(data)
        if digit != expected:
            self.failed.append(Problem(f"{self.where}, {what}",
                                       f"check digit is {digit!r}, the data {data!r} gives {expected}"))

    def date(self, what: str, value: str, kind: str) -> date | None:
        if not value.strip("<"):
            return None
        try:
            return yymmdd(value, kind)
        except ValueError as exc:
            self.failed.append(Problem(f"{self.where}, {what}", str(exc)))
            return None


def _document_number(reader: _Reader, number: str, digit: str, optional: str) -> tuple[str, str]:
    """The document number, read on into the optional data when TD1/TD2 say it is long."""
    if digit == "<" and optional.strip("<"):
        rest, _, _ = optional.partition("<")
        full, digit = number + rest[:-1], rest[-1:]
        reader.check("document number", full, digit)
        return full.replace("<", ""), optional[len(rest) + 1:]
    reader.check("document number", number, digit)
    return number.replace("<", ""), optional


def parse_mrz(lines: list[str] | str, where: str = "MRZ") -> MRZ:
    """Read a machine-readable zone (lines, or one text with line breaks); raises when its shape is wrong."""
    if isinstance(lines, str):
        lines = lines.split()
    lines = [line.strip().upper() for line in lines if line.strip()]
    shape = (len(lines), len(lines[0]) if lines else 0)
    if shape not in LAYOUTS or any(len(line) != shape[1] for line in lines):
        raise MessageFormatError(where, None, f"not a machine-readable zone: {len(lines)} lines of "
                                              f"{', '.join(str(len(line)) for line in lines) or 'nothing'} characters "
                                              "(TD1 3×30, TD2 2×36, TD3 2×44)")
    for line_no, line in enumerate(lines, start=1):
        bad = sorted(set(line) - ALLOWED)
        if bad:
            raise MessageFormatError(where, f"line {line_no}", f"characters {''.join(bad)!r} are not allowed in an MRZ")
    layout = LAYOUTS[shape]
    visa = lines[0][0] == "V"
    reader = _Reader(where)
    fields: dict[str, str]
    composite: tuple[str, str] | None
    if layout == "TD1":
        top, middle, bottom = lines
        number, optional = _document_number(reader, top[5:14], top[14], top[15:30])
        fields = dict(code=top[0:2], state=top[2:5], number=number, birth=middle[0:6], birth_cd=middle[6],
                      sex=middle[7], expiry=middle[8:14], expiry_cd=middle[14], nationality=middle[15:18],
                      optional=optional + middle[18:29], name=bottom)
        composite = (top[5:30] + middle[0:7] + middle[8:15] + middle[18:29], middle[29])
    else:
        top, bottom = lines
        width = shape[1]
        if layout == "TD3" and not visa:
            number, optional = bottom[0:9].replace("<", ""), bottom[28:42]
            reader.check("document number", bottom[0:9], bottom[9])
            reader.check("personal number", bottom[28:42], bottom[42])
            composite = (bottom[0:10] + bottom[13:20] + bottom[21:43], bottom[43])
        elif layout == "TD2" and not visa:
            number, optional = _document_number(reader, bottom[0:9], bottom[9], bottom[28:35])
            composite = (bottom[0:10] + bottom[13:20] + bottom[21:35], bottom[35])
        else:  # visas: no composite check digit
            layout = "MRV-A" if width == 44 else "MRV-B"
            number, optional = bottom[0:9].replace("<", ""), bottom[28:width]
            reader.check("document number", bottom[0:9], bottom[9])
            composite = None
        fields = dict(code=top[0:2], state=top[2:5], number=number, birth=bottom[13:19], birth_cd=bottom[19],
                      sex=bottom[20], expiry=bottom[21:27], expiry_cd=bottom[27], nationality=bottom[10:13],
                      optional=optional, name=top[5:width])
    reader.check("birth date", fields["birth"], fields["birth_cd"])
    reader.check("expiry date", fields["expiry"], fields["expiry_cd"])
    if composite is not None:
        reader.check("composite", *composite)
    surname, given = _name(fields["name"])
    if not surname:
        reader.failed.append(Problem(f"{where}, name", "no primary identifier (surname)"))
    return MRZ(layout=layout, document_code=fields["code"].replace("<", ""),
               issuing_state=fields["state"].replace("<", ""),
               surname=surname, given_names=given, document_number=fields["number"],
               nationality=fields["nationality"].replace("<", ""),
               birth_date=reader.date("birth date", fields["birth"], "birth"),
               sex=gender_of(fields["sex"]), expiry=reader.date("expiry date", fields["expiry"], "expiry"),
               optional_data=_text(fields["optional"]), failed=reader.failed)


def read_mrz_file(text: str, source: str) -> list[MRZ]:
    """Every MRZ in a text file: zones separated by blank lines."""
    zones = [block.split() for block in text.replace("\r", "").split("\n\n") if block.strip()]
    if not zones:
        raise MessageFormatError(source, None, "no machine-readable zone in the file")
    return [parse_mrz(zone, f"{source}, zone {i}") for i, zone in enumerate(zones, start=1)]
