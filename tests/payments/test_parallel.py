"""Names screened in worker processes give the decisions screening them in this process gives."""

from __future__ import annotations

from sqlalchemy import Engine

from jointwatch.payments.model import Payment
from jointwatch.payments.parallel import screen_parallel, worker_pool
from jointwatch.payments.reader import read_payments
from jointwatch.payments.screening import PaymentDecision, PaymentScreener
from jointwatch.screening import Screener
from tests.conftest import FIXTURES


def test_worker_processes_give_the_same_decisions(register: Engine, screener: Screener) -> None:
    items = [p for name in ("pacs008_sample.xml", "pain001_sample.xml", "mt103_sample.fin", "pacs008_broken.xml")
             for p in read_payments(FIXTURES / "payments" / name)]
    assert sum(isinstance(p, Payment) for p in items) >= 5
    serial = [d.to_dict() if isinstance(d, PaymentDecision) else str(d)
              for d in PaymentScreener(screener).screen_all(items)]
    parallel_screener = PaymentScreener(screener)
    with worker_pool(parallel_screener, 2, after_fork=lambda: register.dispose(close=False)) as pool:
        assert pool is not None
        parallel = [d.to_dict() if isinstance(d, PaymentDecision) else str(d)
                    for d in screen_parallel(parallel_screener, items, pool, batch=3, min_parallel=1)]
    assert parallel == serial
    assert "hold" in {d["decision"] for d in parallel if isinstance(d, dict)}
    assert parallel_screener.totals.names_screened > 0
