"""Payments, customer bases and frozen assets: ISO 20022 and MT103 parsing, payment screening
(pass / hold with reasons), customer files with delta re-screening, and the freeze register's
legal basis and exports.

    from jointwatch.payments import PaymentScreener, read_payments
    screener = PaymentScreener(open_screener(engine))
    for decision in screener.screen_all(read_payments(Path("pacs008.xml"))):
        print(decision)
"""

from jointwatch.payments.model import Account, Agent, Party, Payment, UnreadMessage
from jointwatch.payments.reader import read_files, read_payments
from jointwatch.payments.screening import Hit, PaymentDecision, PaymentScreener

__all__ = ["Account", "Agent", "Hit", "Party", "Payment", "PaymentDecision", "PaymentScreener", "UnreadMessage",
           "read_files", "read_payments"]
