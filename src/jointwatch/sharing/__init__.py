"""Sharing information on terrorists between partners who do not fully trust each other.

Partner entries (FtM entities shared under a distribution, a TLP 2.0 marking and handling
codes; ``jointwatch.releasability`` says who may see, match and pass on each), their
versions and withdrawal; screening that sees only what is releasable to the caller.

    from jointwatch.sharing import EntryInput, share_entry
    from jointwatch.releasability import Labels
    entry = share_entry(engine, member_id, "officer1",
                        EntryInput("Person", {"name": ["Abu Example"], "birthDate": ["1980"]}),
                        Labels("members", (2,), "amber", ("consent-before-action",), "EU 2017/541 art. 3"))
"""

from jointwatch.sharing.entries import (
    SCHEMATA,
    EntryInput,
    EntryView,
    clean_entity,
    edit_entry,
    passable,
    releasable_ids,
    share_entry,
    view_entry,
    visible_entries,
    withdraw_entry,
)
from jointwatch.sharing.evidence import (
    EvidenceView,
    Place,
    add_evidence,
    get_evidence,
    list_evidence,
    withdraw_evidence,
)
from jointwatch.sharing.federation import (
    BUNDLE_ENTRIES,
    Outgoing,
    Received,
    SyncResult,
    note_sent,
    outgoing_bundle,
    receive_bundle,
    sync,
)
from jointwatch.sharing.groups import change_group, group_named
from jointwatch.sharing.records import EXTENSION, EntryRecord, from_record, to_record
from jointwatch.sharing.screening import SOURCE, PartnerIndex, SharedScreener, listed_of
from jointwatch.sharing.signing import canonical, rotate_signing_key, signing_key

__all__ = [
    "BUNDLE_ENTRIES",
    "EXTENSION",
    "EntryInput",
    "EntryRecord",
    "EntryView",
    "EvidenceView",
    "Outgoing",
    "PartnerIndex",
    "Place",
    "Received",
    "SCHEMATA",
    "SOURCE",
    "SharedScreener",
    "SyncResult",
    "add_evidence",
    "canonical",
    "change_group",
    "clean_entity",
    "edit_entry",
    "from_record",
    "get_evidence",
    "group_named",
    "list_evidence",
    "listed_of",
    "note_sent",
    "outgoing_bundle",
    "passable",
    "receive_bundle",
    "releasable_ids",
    "rotate_signing_key",
    "share_entry",
    "signing_key",
    "sync",
    "to_record",
    "view_entry",
    "visible_entries",
    "withdraw_entry",
    "withdraw_evidence",
]
