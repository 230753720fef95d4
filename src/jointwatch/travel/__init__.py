"""Travellers at the border: MRZ, PAXLST and PNRGOV messages read, every traveller screened,
the carrier's boarding reply (board / do not board) and the officer's referrals.
"""
