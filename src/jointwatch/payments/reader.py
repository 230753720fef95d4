"""Reading payment files whatever their format: ISO 20022 XML or SWIFT MT103, told by content."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from jointwatch.errors import MessageFormatError
from jointwatch.payments.iso20022 import read_iso20022
from jointwatch.payments.model import Payment, UnreadMessage
from jointwatch.payments.mt103 import read_mt103

FORMATS = ("auto", "iso20022", "mt103")


def sniff_format(path: Path) -> str:
    """"iso20022" for XML, "mt103" for SWIFT FIN blocks; MessageFormatError otherwise."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    if head.startswith(b"<"):
        return "iso20022"
    if head.startswith((b"{1:", b"{2:", b"{4:", b":20:")):
        return "mt103"
    raise MessageFormatError(path, None,
                             "neither ISO 20022 XML (pacs.008, pain.001) nor SWIFT MT103 ({1: … {4: blocks)")


def read_payments(path: Path, fmt: str = "auto") -> Iterator[Payment | UnreadMessage]:
    """The payments of one file in order, with an UnreadMessage in place of each broken message."""
    chosen = sniff_format(path) if fmt == "auto" else fmt
    if chosen == "iso20022":
        yield from read_iso20022(path)
    elif chosen == "mt103":
        yield from read_mt103(path)
    else:
        raise MessageFormatError(path, None, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def read_files(paths: Iterable[Path], fmt: str = "auto") -> Iterator[Payment | UnreadMessage]:
    for path in paths:
        yield from read_payments(path, fmt)


def read_payment_text(content: str, label: str = "body") -> list[Payment | UnreadMessage]:
    """The payments of a file's text as received (an API body, a console upload), each named
    ``label``: the parsers stream from a file, so the text is read from a temporary one whose
    name means nothing to the sender (a file that cannot be read is a MessageFormatError of
    ``label``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payments"
        path.write_text(content, encoding="utf-8")
        try:
            items = list(read_payments(path))
        except MessageFormatError as error:
            raise MessageFormatError(label, error.location, error.reason) from None
    for item in items:
        if isinstance(item, UnreadMessage):
            item.path = label
        else:
            item.source = label
    return items
