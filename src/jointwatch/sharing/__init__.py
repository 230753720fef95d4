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
from jointwatch.sharing.exchange import (
    FORMATS,
    MAX_IMPORT_BYTES,
    ImportChoice,
    ImportItem,
    ImportReport,
    exportable,
    ftm_lines,
    import_items,
    note_export,
    read_ftm_lines,
)
from jointwatch.sharing.federation import (
    BUNDLE_ENTRIES,
    MAX_BUNDLE_ENTRIES,
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
from jointwatch.sharing.screening import SOURCE, PartnerIndex, SharedScreener, listed_of, partner_entries
from jointwatch.sharing.signing import canonical, public_key, rotate_signing_key, signing_key
from jointwatch.sharing.stix import (
    EXTENSION_ID,
    STIX_MEDIA_TYPE,
    TLP2_IDS,
    entry_object,
    read_stix_bundle,
    stix_bundle,
)
from jointwatch.sharing.taxii import (
    CollectionInfo,
    Page,
    TaxiiObject,
    collection_for,
    collection_objects,
    collections_for,
    entries_in,
    load_page,
    manifest_record,
    parse_time,
    select_page,
)

__all__ = [
    "BUNDLE_ENTRIES",
    "EXTENSION",
    "EXTENSION_ID",
    "FORMATS",
    "MAX_BUNDLE_ENTRIES",
    "MAX_IMPORT_BYTES",
    "SCHEMATA",
    "SOURCE",
    "STIX_MEDIA_TYPE",
    "TLP2_IDS",
    "CollectionInfo",
    "EntryInput",
    "EntryRecord",
    "EntryView",
    "EvidenceView",
    "ImportChoice",
    "ImportItem",
    "ImportReport",
    "Outgoing",
    "Page",
    "PartnerIndex",
    "Place",
    "Received",
    "SharedScreener",
    "SyncResult",
    "TaxiiObject",
    "add_evidence",
    "canonical",
    "change_group",
    "clean_entity",
    "collection_for",
    "collection_objects",
    "collections_for",
    "edit_entry",
    "entries_in",
    "entry_object",
    "exportable",
    "from_record",
    "ftm_lines",
    "get_evidence",
    "group_named",
    "import_items",
    "list_evidence",
    "listed_of",
    "load_page",
    "manifest_record",
    "note_export",
    "note_sent",
    "outgoing_bundle",
    "parse_time",
    "partner_entries",
    "passable",
    "public_key",
    "read_ftm_lines",
    "read_stix_bundle",
    "receive_bundle",
    "releasable_ids",
    "rotate_signing_key",
    "select_page",
    "share_entry",
    "signing_key",
    "stix_bundle",
    "sync",
    "to_record",
    "view_entry",
    "visible_entries",
    "withdraw_entry",
    "withdraw_evidence",
]
