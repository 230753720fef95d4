"""POST /decisions, GET /decisions, DELETE /decisions/{id}: analysts' verdicts, each member seeing only its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models import DecisionRequest
from jointwatch.api.params import RowId
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.screening import prepare
from jointwatch.store import Decision, list_decisions, record_decision, withdraw_decision

router = APIRouter(tags=["decisions"])
_RESPONSES: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "Not Found"},
    409: {"model": Problem, "description": "Already decided"}}


@router.post("/decisions", response_model=Decision, status_code=201, responses=_RESPONSES)
def decide(body: DecisionRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("decision.create", Right.DECIDE))]) -> Decision:
    """Mark a match a true or false positive, with a reason; a false positive stops it alerting again."""
    caller.note.subject = body.subject.audit_view()
    query = prepare(body.subject.to_query())
    decision = record_decision(request.app.state.engine, caller.member_id, caller.key.user, query.identity(),
                               body.subject.name, query.birth_date, body.reference, body.source, body.verdict,
                               body.reason)
    caller.note.summary = f"decision {decision.id}: {decision.verdict} {decision.source}:{decision.reference}"
    return decision


@router.get("/decisions", response_model=list[Decision], responses=PROBLEM_RESPONSES)
def decisions(request: Request,
              caller: Annotated[Caller, Depends(authorize("decision.read", Right.DECIDE))]) -> list[Decision]:
    """The decisions of the caller's member, oldest first."""
    found = list_decisions(request.app.state.engine, caller.member_id)
    caller.note.summary = f"{len(found)} decisions"
    return found


@router.delete("/decisions/{decision_id}", response_model=Decision, responses=_RESPONSES)
def withdraw(decision_id: RowId, request: Request,
             caller: Annotated[Caller, Depends(authorize("decision.withdraw", Right.DECIDE))]) -> Decision:
    """Withdraw one of the caller's member's decisions: a false positive's match alerts again.
    Another member's decision is answered 404, as one that does not exist."""
    decision = withdraw_decision(request.app.state.engine, caller.member_id, decision_id)
    caller.note.summary = f"withdrew decision {decision.id}: {decision.verdict} {decision.source}:{decision.reference}"
    return decision
