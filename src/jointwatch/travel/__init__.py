"""Travellers at the border: MRZ, PAXLST and PNRGOV messages read, every traveller screened,
the carrier's boarding reply (board / do not board) and the officer's referrals.
"""

from jointwatch.travel.read import read_travellers
from jointwatch.travel.reply import carrier_reply
from jointwatch.travel.screen import ManifestResult, result_record, screen_manifest

__all__ = [
    "ManifestResult",
    "carrier_reply",
    "read_travellers",
    "result_record",
    "screen_manifest",
]
