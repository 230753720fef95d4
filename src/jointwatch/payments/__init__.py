"""Payments, customer bases and frozen assets: ISO 20022 and MT103 parsing, payment screening
(pass / hold with reasons), customer files with delta re-screening, and the freeze register's
legal basis and exports.

    from jointwatch.payments import PaymentScreener, read_payments
    screener = PaymentScreener(open_screener(engine))
    for decision in screener.screen_all(read_payments(Path("pacs008.xml"))):
        print(decision)
"""

from jointwatch.payments.alerts import file_payment_alerts, payment_alerts, payment_ref
from jointwatch.payments.customers import (
    CustomerRun,
    RowError,
    Screened,
    open_alert_pairs,
    read_customers,
    rescreen_delta,
    rescreen_full,
    screen_customer,
    screen_customer_file,
)
from jointwatch.payments.freeze import export_csv, export_json, freeze_listed_asset
from jointwatch.payments.model import Account, Agent, Party, Payment, UnreadMessage
from jointwatch.payments.parallel import screen_parallel, worker_pool
from jointwatch.payments.partners import PartnerEntries
from jointwatch.payments.reader import read_files, read_payment_text, read_payments
from jointwatch.payments.screening import Hit, PaymentDecision, PaymentScreener

__all__ = ["Account", "Agent", "CustomerRun", "Hit", "PartnerEntries", "Party", "Payment", "PaymentDecision",
           "PaymentScreener",
           "RowError", "Screened", "UnreadMessage", "export_csv", "export_json", "freeze_listed_asset",
           "open_alert_pairs", "read_customers", "read_files", "read_payment_text", "read_payments", "rescreen_delta",
           "rescreen_full",
           "screen_customer", "screen_customer_file", "screen_parallel", "worker_pool",
           "file_payment_alerts", "payment_alerts", "payment_ref"]
