"""Batch screening jobs: the input kept whole, each subject's result written once, as it is made.

A job's subjects are rows of ``job_items`` in the order sent; a row gets its ``result`` when
that subject has been screened, in the same transaction that counts it as done. So a job
stopped at any point (shutdown, crash) resumes at the first row without a result: no
subject is lost and none is counted twice. The store does not screen; the service's
worker does (``jointwatch.api.jobs``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, func, insert, select, update

from jointwatch import jsonout
from jointwatch.errors import NotFoundError
from jointwatch.store.alerts import NewAlert, insert_alerts
from jointwatch.store.schema import job_items, jobs

Status = Literal["queued", "running", "done", "failed"]
UNFINISHED: tuple[str, ...] = ("queued", "running")
INSERT_CHUNK = 5000  # subjects per INSERT: bounds the statement size on both engines


@dataclass(frozen=True)
class Job:
    id: str
    member_id: int
    user: str
    status: str
    total: int
    done: int
    threshold: float | None
    match_limit: int
    subject_digest: str
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PendingSubject:
    """One subject of a job not screened yet: its position and the subject as sent."""

    index: int
    subject: dict[str, Any]


def _job(row: Any) -> Job:
    return Job(**row._mapping)  # times come back aware, in UTC (schema.UtcDateTime)


def create_job(engine: Engine, member_id: int, user: str, subjects: list[dict[str, Any]], threshold: float | None,
               match_limit: int, subject_digest: str) -> Job:
    """A new queued job holding every subject (or a finished one, if there are none)."""
    now = datetime.now(UTC)
    job = Job(id=str(uuid.uuid4()), member_id=member_id, user=user, status="queued" if subjects else "done",
              total=len(subjects), done=0, threshold=threshold, match_limit=match_limit,
              subject_digest=subject_digest, error=None, created_at=now, updated_at=now)
    with engine.begin() as connection:  # one transaction: a job is stored whole or not at all
        connection.execute(insert(jobs).values(**asdict(job)))
        for start in range(0, len(subjects), INSERT_CHUNK):
            connection.execute(insert(job_items), [
                {"job_id": job.id, "idx": start + i, "subject": jsonout.dumps(s), "result": None}
                for i, s in enumerate(subjects[start:start + INSERT_CHUNK])])
    return job


def get_job(engine: Engine, job_id: str, member_id: int | None = None) -> Job:
    """The job ``job_id`` of ``member_id`` (any member if None); NotFoundError otherwise.

    Another member's job is "not found", not "forbidden": its existence is not theirs to learn.
    """
    query = select(jobs).where(jobs.c.id == job_id)
    if member_id is not None:
        query = query.where(jobs.c.member_id == member_id)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(f"no job {job_id!r}")
    return _job(row)


def unfinished_jobs(engine: Engine) -> list[Job]:
    """Queued and running jobs, oldest first: what a worker (re)starts on."""
    query = select(jobs).where(jobs.c.status.in_(UNFINISHED)).order_by(jobs.c.created_at, jobs.c.id)
    with engine.connect() as connection:
        return [_job(row) for row in connection.execute(query)]


def pending_subjects(engine: Engine, job_id: str, after: int = -1, limit: int = 100) -> list[PendingSubject]:
    """Up to ``limit`` subjects of the job without a result, after position ``after``, in order."""
    query = (select(job_items.c.idx, job_items.c.subject)
             .where(job_items.c.job_id == job_id, job_items.c.idx > after, job_items.c.result.is_(None))
             .order_by(job_items.c.idx).limit(limit))
    with engine.connect() as connection:
        return [PendingSubject(row.idx, json.loads(row.subject)) for row in connection.execute(query)]


def set_status(engine: Engine, job_id: str, status: Status, error: str | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(update(jobs).where(jobs.c.id == job_id)
                           .values(status=status, error=error, updated_at=datetime.now(UTC)))


def store_result(engine: Engine, job_id: str, index: int, result: dict[str, Any],
                 alerts: Sequence[NewAlert] = (), member_id: int | None = None) -> bool:
    """Write one subject's result and count it done, and open its ``alerts`` for ``member_id``;
    False if it already had one (kept as it was, and no alert opened twice)."""
    with engine.begin() as connection:
        written = connection.execute(
            update(job_items)
            .where(job_items.c.job_id == job_id, job_items.c.idx == index, job_items.c.result.is_(None))
            .values(result=jsonout.dumps(result))).rowcount
        if written:
            # in the same transaction as the result, so ``done`` always equals the results stored
            # and a subject's alerts are opened exactly once, whoever screened it
            connection.execute(update(jobs).where(jobs.c.id == job_id)
                               .values(done=jobs.c.done + 1, updated_at=datetime.now(UTC)))
            if alerts and member_id is not None:
                insert_alerts(connection, member_id, list(alerts))
    return bool(written)


def finish_job(engine: Engine, job_id: str) -> Job:
    """Mark the job done if every subject has a result; the job as it then stands."""
    with engine.begin() as connection:
        missing = connection.execute(select(func.count()).select_from(job_items)
                                     .where(job_items.c.job_id == job_id, job_items.c.result.is_(None))).scalar_one()
        if not missing:
            connection.execute(update(jobs).where(jobs.c.id == job_id)
                               .values(status="done", updated_at=datetime.now(UTC)))
    return get_job(engine, job_id)


def iter_results(engine: Engine, job_id: str, upto: int | None = None, page: int = 500) -> Iterator[dict[str, Any]]:
    """The results stored so far, in subject order, read a page at a time; at most ``upto`` of them."""
    after, sent = -1, 0
    while upto is None or sent < upto:
        size = page if upto is None else min(page, upto - sent)
        query = (select(job_items.c.idx, job_items.c.result)
                 .where(job_items.c.job_id == job_id, job_items.c.idx > after, job_items.c.result.is_not(None))
                 .order_by(job_items.c.idx).limit(size))
        with engine.connect() as connection:  # a connection per page: a slow reader holds no transaction open
            rows = connection.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield json.loads(row.result)
        after, sent = rows[-1].idx, sent + len(rows)
