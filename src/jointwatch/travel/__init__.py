"""Travellers at the border: MRZ, PAXLST and PNRGOV messages read, every traveller screened,
the carrier's boarding reply (board / do not board) and the officer's referrals.
"""

from jointwatch.travel.alerts import file_traveller_alerts, traveller_alerts, traveller_ref
from jointwatch.travel.documents import read_document_file
from jointwatch.travel.mrz import MRZ, parse_mrz
from jointwatch.travel.read import FORMATS, read_travel_files, read_travellers
from jointwatch.travel.reply import carrier_reply
from jointwatch.travel.screen import ManifestResult, result_record, screen_manifest

__all__ = [
    "FORMATS",
    "MRZ",
    "ManifestResult",
    "carrier_reply",
    "file_traveller_alerts",
    "parse_mrz",
    "read_document_file",
    "read_travel_files",
    "read_travellers",
    "result_record",
    "screen_manifest",
    "traveller_alerts",
    "traveller_ref",
]
