"""The batch worker: screens queued jobs in a background thread, one subject at a time.

One worker per service process, started and stopped with the app's lifespan. Each result is
stored as soon as it is made, so stopping (shutdown, crash) loses at most the subject being
screened; on start the worker resumes every queued or running job at its first subject
without a result. Several processes on one store may each pick up the same job: a result is
only ever stored once (``store_result``), so counts stay exact; the work may be done twice.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from jointwatch.api.models import ScreenResult, Subject
from jointwatch.api.screeners import Screeners
from jointwatch.errors import QueryError, ScreeningUnavailableError
from jointwatch.screening import Screener, job_alerts
from jointwatch.store import (
    Job,
    finish_job,
    iter_results,
    pending_subjects,
    record,
    set_status,
    store_result,
    unfinished_jobs,
)

log = logging.getLogger("jointwatch.api.jobs")
CHUNK = 100  # subjects read from the store at a time


def screen_subject(screener: Screener, subject: Subject, index: int, threshold: float, limit: int,
                   member_id: int | None = None) -> ScreenResult:
    """One subject of a batch screened (with the member's whitelist); a subject the screener
    refuses gets an error, not an exception."""
    try:
        found = screener.screen(subject.to_query(), threshold=threshold, limit=limit, member_id=member_id)
    except QueryError as error:
        return ScreenResult(index=index, id=subject.id, matches=[], error=f"subjects.{index}: {error}")
    return ScreenResult(index=index, id=subject.id, matches=found)


def results_summary(results: Counter[str]) -> str:
    """The audit summary of a batch: how many subjects, with matches, rejected."""
    return f"{results['total']} subjects, {results['with_matches']} with matches, {results['errors']} rejected"


class _Stopped(Exception):
    """The worker was asked to stop; the job stays as it is, to be resumed."""


class _Failed(Exception):
    """The job was marked failed; the worker goes on with the next one."""


class JobWorker:
    """Screens the store's unfinished jobs, oldest first, until stopped."""

    def __init__(self, engine: Engine, screeners: Screeners, poll_seconds: float = 1.0,
                 stop_after: int | None = None) -> None:
        self.engine = engine
        self.screeners = screeners
        self.poll_seconds = poll_seconds  # also finds jobs submitted to another process on the same store
        self.stop_after = stop_after      # a drill: stop as if shut down after this many subjects
        self.screened = 0                 # subjects this worker screened, for tests and logs
        self._waiting_for = ""            # the reason screening is unavailable, logged once while it lasts
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="jointwatch-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was submitted: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the subject being screened; its job stays ``running`` and resumes on the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                job = next(iter(unfinished_jobs(self.engine)), None)
                if job is not None:
                    self._run_job(job)
                    continue
            except _Stopped:
                return
            except _Failed:
                continue
            except SQLAlchemyError:
                # the store is unreachable: the job is intact in it, so wait and try again
                log.exception("batch worker: store error, retrying")
            except ScreeningUnavailableError as error:
                # no list, or lists too old: the job waits (never screened against nothing) until they are loaded
                if str(error) != self._waiting_for:
                    log.warning("batch worker: waiting, %s", error)
                self._waiting_for = str(error)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _run_job(self, job: Job) -> None:
        if job.status == "queued":
            set_status(self.engine, job.id, "running")
        after = -1
        while batch := pending_subjects(self.engine, job.id, after, CHUNK):
            screener, _ = self.screeners.current()  # per chunk: a newly loaded list is used from then on
            threshold = screener.threshold if job.threshold is None else job.threshold
            for pending in batch:
                if self._stopping.is_set():
                    raise _Stopped
                self._screen_one(job, screener, pending.index, pending.subject, threshold)
                after = pending.index
        self._finish(job)

    def _screen_one(self, job: Job, screener: Screener, index: int, subject: dict[str, Any],
                    threshold: float) -> None:
        try:
            result = screen_subject(screener, Subject.model_validate(subject), index, threshold, job.match_limit,
                                    job.member_id)
        except Exception as error:
            # not a refused subject but a fault: fail the job visibly rather than skip subjects silently
            log.exception("batch worker: job %s failed at subject %d", job.id, index)
            set_status(self.engine, job.id, "failed", f"subject {index} could not be screened: {type(error).__name__}")
            raise _Failed from error
        stored = result.model_dump(mode="json", by_alias=True)
        found = (job_alerts(f"job {job.id} #{index}" + (f" (id {result.id})" if result.id else ""),
                            Subject.model_validate(subject).to_query(), stored["matches"])
                 if stored["matches"] and not result.error else [])
        store_result(self.engine, job.id, index, stored, found, job.member_id)
        self.screened += 1
        if self.stop_after is not None and self.screened >= self.stop_after:
            self._stopping.set()

    def _finish(self, job: Job) -> None:
        finished = finish_job(self.engine, job.id)
        if finished.status != "done":
            return  # another process still holds a subject of it; it finishes the job
        counts: Counter[str] = Counter()
        for result in iter_results(self.engine, job.id):
            counts["total"] += 1
            counts["with_matches"] += bool(result["matches"])
            counts["errors"] += bool(result["error"])
        _, versions = self.screeners.current()
        # the audit row of what came back: the submission's row only says the job was accepted
        record(self.engine, job.member_id, job.user, "job.done", 200, None, versions,
               f"job {job.id}: {results_summary(counts)}", digest=job.subject_digest)
