"""Hardened, streaming XML reading for untrusted list files.

Official lists arrive over the network and are parsed unattended, so a file that declares
a DTD (the vehicle of "billion laughs" entity expansion and external-entity attacks) is
refused outright: no official list format we read needs one. Entities are never resolved,
the network is never touched, and documents are read element by element so memory stays
bounded on large files.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import check_size


def local(tag: object) -> str:
    """An element's tag without its namespace (``{ns}sdnEntry`` → ``sdnEntry``)."""
    if not isinstance(tag, str):
        return ""
    if "}" not in tag:  # most list files use no namespace: the tag as it is
        return tag
    return tag.rsplit("}", 1)[-1]


_PROLOG_BYTES = 65536
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_SKIPPED = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.S)
# longest first: the UTF-32 LE mark starts with the UTF-16 LE one
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Prolog:
    """What the start of an XML file declares before its root element."""

    doctype_line: int | None  # the line of a DOCTYPE declaration, None when there is none
    root: str | None  # the root element's local name, None when the head holds none


def read_prolog(path: Path) -> Prolog:
    """The DOCTYPE (if any) and root element of an XML file, read from its first 64 KiB only."""
    with path.open("rb") as handle:
        head = handle.read(_PROLOG_BYTES)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            head = head.decode(encoding, errors="ignore").encode("utf-8")
            break
    prolog = _SKIPPED.sub(b"", head)
    first = _FIRST_TAG.search(prolog)
    doctype = _DOCTYPE.search(prolog, 0, first.start() if first else len(prolog))
    line = head[: head.upper().find(b"<!DOCTYPE")].count(b"\n") + 1 if doctype else None
    return Prolog(line, first.group(1).decode("ascii") if first else None)


def _refuse_doctype(path: Path) -> None:
    """Refuse a DOCTYPE in the prolog before lxml sees it: newer libxml2 builds stop on entity
    amplification themselves, with a message that would not say why the file is refused."""
    line = read_prolog(path).doctype_line
    if line is not None:
        raise ListFormatError(path, f"DOCTYPE at line {line}",
                              "a DOCTYPE declaration is not accepted in a list file "
                              "(entity expansion and external entities are refused)")


def iter_elements(path: Path, tags: set[str]) -> Iterator[tuple[str, etree._Element]]:
    """Yield ("root", root) first, then each complete element whose local tag is in ``tags``.

    Yielded elements are cleared after the caller is done with them, so the caller must
    copy what it needs before asking for the next one.
    """
    check_size(path)
    _refuse_doctype(path)
    parser = etree.iterparse(
        str(path),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    try:
        for event, element in parser:
            if event == "start":
                depth += 1
                if depth == 1:
                    docinfo = element.getroottree().docinfo
                    if docinfo.internalDTD is not None or docinfo.system_url or docinfo.public_id:
                        raise ListFormatError(
                            path,
                            f"DOCTYPE before line {element.sourceline}",
                            "a DOCTYPE declaration is not accepted in a list file "
                            "(entity expansion and external entities are refused)",
                        )
                    yield "root", element
                continue
            depth -= 1
            name = local(element.tag)
            if name in tags:
                yield name, element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    # drop already-processed siblings so memory stays bounded
                    while element.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        raise ListFormatError(path, f"line {line}", f"malformed XML: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ListFormatError(path, f"byte {exc.start}", f"wrong encoding: {exc.reason}") from exc


def _child(node: etree._Element, name: str) -> etree._Element | None:
    """The first child with local tag ``name``: one without a namespace first (the common case),
    then in any namespace. lxml matches the tag in C; ``{*}`` is its any-namespace wildcard."""
    found = next(node.iterchildren(name), None)
    return found if found is not None else next(node.iterchildren("{*}" + name), None)


def text(element: etree._Element, *path: str) -> str | None:
    """Stripped text of the first descendant at ``path`` (local names), or None."""
    node: etree._Element | None = element
    for step in path:
        if node is None:
            return None
        node = _child(node, step)
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def texts(element: etree._Element, *path: str) -> list[str]:
    """Stripped, non-empty texts of every descendant at ``path`` (local names)."""
    nodes = [element]
    for step in path:
        nodes = [c for n in nodes for c in n.iterchildren("{*}" + step)]
    out = []
    for node in nodes:
        if node.text and node.text.strip():
            out.append(node.text.strip())
    return out


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Direct children with local tag ``name``."""
    return list(element.iterchildren("{*}" + name))


def where(element: etree._Element) -> str:
    """A human location for an element: its line and tag."""
    return f"line {element.sourceline} <{local(element.tag)}>"
