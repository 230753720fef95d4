"""The labels of a banked item: the group, the kind of content, and how far it may be shared."""

from __future__ import annotations

from dataclasses import dataclass

from jointwatch.errors import InvalidInputError
from jointwatch.releasability import TLP_LEVELS

# GIFCT's and Tech Against Terrorism's working categories of terrorist content.
CONTENT_TYPES = ("logo", "execution", "attack", "recruitment", "instruction", "glorification", "threat",
                 "propaganda", "other")
# what leaves the bank in an export by default: up to amber, the usual partner-to-partner level
DEFAULT_EXPORT_TLP = "amber"


@dataclass(frozen=True)
class Labels:
    """What a contributor says about an item; each contributor's labels are its own."""

    content_type: str
    group: str | None = None
    tlp: str = "amber"

    def __post_init__(self) -> None:
        if self.content_type not in CONTENT_TYPES:
            raise InvalidInputError(f"content type {self.content_type!r} is not one of {', '.join(CONTENT_TYPES)}")
        if self.tlp not in TLP_LEVELS:
            raise InvalidInputError(f"TLP {self.tlp!r} is not one of {', '.join(TLP_LEVELS)}")
        if self.group is not None and (not self.group.strip() or len(self.group) > 128):
            raise InvalidInputError("a group name is 1 to 128 characters")


def make_labels(content_type: str, group: str | None = None, tlp: str = "amber") -> Labels:
    """Labels from user text: case and spacing forgiven, ``TLP:AMBER`` accepted for ``amber``."""
    level = tlp.strip().lower().removeprefix("tlp:")
    if "\x00" in content_type + (group or "") + tlp:
        # every way in (CLI, API, CSV, JSON, ThreatExchange tags) passes here: a NUL is never stored or exported
        raise InvalidInputError("labels: a NUL character is not allowed in a content type, group or TLP")
    name = " ".join(group.split()) if group else None
    return Labels(content_type.strip().lower(), name or None, level)

