"""GET /alerts, GET /alerts/counts, GET /alerts/{id}, POST /alerts/{id}/assign, POST /alerts/{id}/decide:
the member's alerts queue (customer runs, held payments, referred travellers, partner hits), with
the rights of decisions: another member's alert is answered 404, as one that does not exist."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models import Text
from jointwatch.api.params import MAX_ROW_ID, RowId
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.store import (
    ALERTS_PER_PAGE,
    Alert,
    AlertEvent,
    alert_history,
    alerts_page,
    assign_alert,
    count_alerts_by_state,
    decide_alert,
    get_alert,
)

router = APIRouter(tags=["alerts"])
_RESPONSES: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "No such alert"},
    409: {"model": Problem, "description": "Already decided"}}
StateFilter = Literal["open", "assigned", "true_positive", "false_positive", "withdrawn", "decided"]
OriginFilter = Literal["customer", "payment", "traveller", "job"]


class AlertPage(BaseModel):
    alerts: list[Alert]
    next_before: int | None = Field(None, description="Pass as `before` for the next (older) page; none when last.")


class AlertDetail(BaseModel):
    alert: Alert
    history: list[AlertEvent]


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: Text | None = Field(None, max_length=128, description="A user of the caller's member; "
                                  "\"me\" for the caller; null to leave the alert to nobody.")


class AlertDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["true_positive", "false_positive"]
    reason: Text = Field(min_length=1, max_length=4000)


@router.get("/alerts", response_model=AlertPage, responses=PROBLEM_RESPONSES)
def alerts(request: Request, caller: Annotated[Caller, Depends(authorize("alert.read", Right.DECIDE))],
           state: StateFilter | None = None, origin: OriginFilter | None = None,
           source: Annotated[Text | None, Query(max_length=64)] = None,
           assignee: Annotated[Text | None, Query(max_length=128, description="A user, or \"me\".")] = None,
           q: Annotated[Text | None, Query(max_length=200, description="Words of the subject.")] = None,
           before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
           limit: Annotated[int, Query(ge=1, le=500)] = ALERTS_PER_PAGE) -> AlertPage:
    """The member's alerts newest first, a page at a time (paged by key), filtered by state,
    origin, source, assignee and words of the subject."""
    who = caller.key.user if assignee == "me" else assignee
    found = alerts_page(request.app.state.engine, caller.member_id, limit + 1, before, state=state, origin=origin,
                        source=source, assignee=who, text=q)
    shown = found[:limit]
    caller.note.summary = f"{len(shown)} alerts"
    return AlertPage(alerts=shown, next_before=shown[-1].id if len(found) > limit and shown else None)


@router.get("/alerts/counts", response_model=dict[str, int], responses=PROBLEM_RESPONSES)
def alert_counts(request: Request,
                 caller: Annotated[Caller, Depends(authorize("alert.read", Right.DECIDE))]) -> dict[str, int]:
    """How many of the member's alerts are open, assigned, decided true or false, withdrawn."""
    counts = count_alerts_by_state(request.app.state.engine, caller.member_id)
    caller.note.summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    return counts


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses=_RESPONSES)
def alert(alert_id: RowId, request: Request,
          caller: Annotated[Caller, Depends(authorize("alert.read", Right.DECIDE))]) -> AlertDetail:
    """One alert with the match's explanation and its history."""
    engine = request.app.state.engine
    found = get_alert(engine, caller.member_id, alert_id)
    caller.note.summary = f"alert {found.id}: {found.source}:{found.reference}"
    return AlertDetail(alert=found, history=alert_history(engine, caller.member_id, alert_id))


@router.post("/alerts/{alert_id}/assign", response_model=Alert, responses=_RESPONSES)
def assign(alert_id: RowId, body: AssignRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("alert.assign", Right.DECIDE))]) -> Alert:
    """Give an alert to a user of the member ("me": the caller), or to nobody (null)."""
    who = caller.key.user if body.assignee == "me" else body.assignee
    done = assign_alert(request.app.state.engine, caller.member_id, alert_id, caller.key.user, who)
    caller.note.summary = f"alert {done.id} to {done.assignee or 'nobody'}"
    return done


@router.post("/alerts/{alert_id}/decide", response_model=Alert, responses=_RESPONSES)
def decide(alert_id: RowId, body: AlertDecisionRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("alert.decide", Right.DECIDE))]) -> Alert:
    """Decide an alert a true or false positive with a reason: the member's decision is filed
    as POST /decisions files it (a false positive stops the match alerting again)."""
    done = decide_alert(request.app.state.engine, caller.member_id, alert_id, caller.key.user, body.verdict,
                        body.reason)
    caller.note.summary = f"alert {done.id}: {done.decision} {done.source}:{done.reference} ({done.decision_id})"
    return done
