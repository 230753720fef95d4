"""Batch jobs: POST /jobs (and POST /screen beyond its inline limit), GET /jobs/{id}, its results.

A job belongs to the member that submitted it; any key of that member with the screening
right may read it, another member gets 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from jointwatch import jsonout
from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.jobs import JobWorker
from jointwatch.api.models import ScreenRequest
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.api.settings import ServiceSettings
from jointwatch.store import Job, create_job, get_job, iter_results, subject_digest

router = APIRouter(tags=["jobs"])
NDJSON = "application/x-ndjson"


class JobAccepted(BaseModel):
    job: str
    status_url: str
    results_url: str


class JobOut(BaseModel):
    job: str
    status: str
    total: int
    done: int
    threshold: float | None
    limit: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    results_url: str


ACCEPTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {"model": JobAccepted, "description": "Accepted as a job; poll the status URL."}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such job of this member."}}


def accept_job(request: Request, caller: Caller, body: ScreenRequest) -> JSONResponse:
    """Store the batch as a job for the worker and answer 202 with where to follow it; 413 if too large."""
    settings: ServiceSettings = request.app.state.settings
    if len(body.subjects) > settings.max_job:
        caller.note.summary = f"refused: {len(body.subjects)} subjects"
        raise HTTPException(413, f"{len(body.subjects):,} subjects: at most {settings.max_job:,} per job")
    # fail closed at the door: a job that could not be screened now is refused (503), not queued
    # to sit "queued"; one accepted before the lists went away or grew old waits for them
    caller.note.summary = "refused: screening unavailable"
    request.app.state.screeners.current()
    engine = request.app.state.engine
    # one digest for the job and the audit row of its submission, so job.done rows link to it
    caller.note.digest = subject_digest(engine, [s.audit_view() for s in body.subjects])
    job = create_job(engine, caller.member_id, caller.key.user, [s.model_dump(by_alias=True) for s in body.subjects],
                     body.threshold, body.limit, caller.note.digest)
    worker: JobWorker = request.app.state.job_worker
    worker.wake()
    caller.note.summary = f"job {job.id}: {job.total} subjects queued"
    accepted = JobAccepted(job=job.id, status_url=f"/jobs/{job.id}", results_url=f"/jobs/{job.id}/results")
    return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": accepted.status_url})


@router.post("/jobs", status_code=202, response_model=JobAccepted, responses=PROBLEM_RESPONSES)
def submit(body: ScreenRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("job.create", Right.SCREEN))]) -> JSONResponse:
    """Screen a batch (up to 100,000 subjects) as a job; follow it at the Location answered."""
    caller.note.subject = [s.audit_view() for s in body.subjects]
    return accept_job(request, caller, body)


def _own_job(request: Request, caller: Caller, job_id: str) -> Job:
    """The caller's member's job; a refusal (404) is audited with the id that was asked for."""
    # written before the lookup: a probe for another member's job leaves the id it tried
    caller.note.summary = f"job {job_id[:64]}: not found for this member"
    return get_job(request.app.state.engine, job_id, caller.member_id)


def _job_out(job: Job) -> JobOut:
    return JobOut(job=job.id, status=job.status, total=job.total, done=job.done, threshold=job.threshold,
                  limit=job.match_limit, error=job.error, created_at=job.created_at, updated_at=job.updated_at,
                  results_url=f"/jobs/{job.id}/results")


@router.get("/jobs/{job_id}", response_model=JobOut, responses={**PROBLEM_RESPONSES, **NOT_FOUND})
def job_status(job_id: str, request: Request,
               caller: Annotated[Caller, Depends(authorize("job.read", Right.SCREEN))]) -> JobOut:
    """The job's status (queued, running, done, failed) and how many of its subjects are screened."""
    job = _own_job(request, caller, job_id)
    caller.note.summary = f"job {job.id}: {job.status}, {job.done} of {job.total}"
    return _job_out(job)


@router.get("/jobs/{job_id}/results", response_class=StreamingResponse,
            responses={**PROBLEM_RESPONSES, **NOT_FOUND,
                       200: {"content": {NDJSON: {}}, "description": "One ScreenResult per line, in subject order."}})
def job_results(job_id: str, request: Request,
                caller: Annotated[Caller, Depends(authorize("job.results", Right.SCREEN))]) -> StreamingResponse:
    """The results screened so far, one JSON object per line (index, id, matches, error), in subject order."""
    engine = request.app.state.engine
    job = _own_job(request, caller, job_id)
    # the audit row is written before the first line, so it names exactly what this read will send
    caller.note.summary = f"job {job.id}: {job.done} of {job.total} results read"

    def lines() -> Iterator[bytes]:
        for result in iter_results(engine, job.id, upto=job.done):
            yield (jsonout.dumps(result) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type=NDJSON,
                             headers={"X-Job-Status": job.status, "X-Job-Done": str(job.done)})
