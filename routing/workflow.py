"""The unit's workflow on its own assignment: sign (签收), contact (首次联系), progress notes
(办理进展), extension requests (延期申请), the reply (办结反馈), and for a district government
holding a level-by-level dispatch, forwarding it down (下派).

Assisting units (协办) reply to the lead (主办); the lead's reply closes the round's handling
once every assistant has replied or timed out (`sla.breached`, or the configured hours)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain
from routing.config import settings
from routing.dispatching import Grounds, dispatch, end_assignment, get_ticket
from routing.domain import AssignmentStatus
from routing.models import Assignment, ExtensionRequest, ProgressNote, Unit, outbox
from routing.reads import get_assignment
from routing.reference import active_unit, area_parents, new_id
from routing.schemas import ExtensionIn, ForwardIn, NoteIn, ReplyIn
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import Event, Payload
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentRole,
    AssignmentSigned,
    ExtensionRequested,
    ProgressNoted,
    TicketReplied,
)
from shared.events.sla import SlaBreached


async def own_assignment(session: AsyncSession, assignment_id: str, who: Principal) -> Assignment:
    """An assignment the calling unit holds (the centre does not act for a unit)."""
    assignment = await get_assignment(session, assignment_id, who)
    if who.role is not Role.UNIT:
        raise Forbidden("Only the assigned unit acts on its assignment.")
    return assignment


async def act(
    session: AsyncSession,
    assignment_id: str,
    action: str,
    *,
    who: Principal,
    now: datetime,
    reply: ReplyIn | None = None,
) -> Assignment:
    """Sign (签收), contact (首次联系) or reply (办结反馈) on an assignment of the caller's unit."""
    assignment = await own_assignment(session, assignment_id, who)
    new_status = domain.next_status(assignment.status, action)
    role = cast(AssignmentRole, assignment.role)
    ids = {"assignment_id": assignment.id, "unit_id": assignment.unit_id, "role": role}
    payloads: list[Payload] = []
    if action == "sign":
        assignment.signed_at = now
        payloads.append(AssignmentSigned(**ids))
    elif action == "contact":
        assignment.contacted_at = now
        payloads.append(AssignmentContacted(**ids))
    else:
        assert reply is not None
        domain.check_reply(reply.outcome, reply.reason, reply.legal_path)
        if role == "lead":
            await _close_assistants(session, assignment, now)
        assignment.replied_at = now
        assignment.ended_at = now
        assignment.outcome = reply.outcome
        assignment.explanation = reply.explanation
        assignment.unsolvable_reason = reply.reason
        assignment.legal_path = reply.legal_path
        extra = {"reason": reply.reason, "legal_path": reply.legal_path}
        payloads.append(
            AssignmentReplied(**ids, outcome=reply.outcome, explanation=reply.explanation, **extra)
        )
        if role == "lead":
            payloads.append(
                TicketReplied(
                    lead_assignment_id=assignment.id,
                    lead_unit_id=assignment.unit_id,
                    outcome=reply.outcome,
                    explanation=reply.explanation,
                    round=assignment.round,
                    **extra,
                )
            )
    for payload in payloads:
        await outbox.emit(session, payload, ticket_id=assignment.ticket_id, occurred_at=now)
    assignment.status = new_status
    return assignment


async def _close_assistants(session: AsyncSession, lead: Assignment, now: datetime) -> None:
    """The lead replies after every assisting unit has replied or timed out; those that timed
    out are withdrawn as the handling closes."""
    rows = (
        await session.scalars(
            select(Assignment).where(
                Assignment.ticket_id == lead.ticket_id,
                Assignment.role == "assist",
                Assignment.round == lead.round,
            )
        )
    ).all()
    states = [
        domain.AssistantState(a.id, a.unit_id, a.status, a.dispatched_at, a.timed_out_at)
        for a in rows
    ]
    hours = settings().assist_reply_hours
    waiting = domain.pending_assistants(states, now, hours)
    if waiting:
        raise Conflict(
            "The lead unit replies after every assisting unit has replied or timed out; "
            f"waiting for {', '.join(a.unit_id for a in waiting)}.",
            status_now=lead.status,
            allowed_actions=[],
            also_allowed=domain.also_allowed(lead.status),
            waiting_for=[a.unit_id for a in waiting],
        )
    for a in rows:
        if a.status not in domain.ENDED:
            await end_assignment(session, a, AssignmentStatus.TIMED_OUT, now, "timed_out")


async def assistant_breached(session: AsyncSession, event: Event[SlaBreached]) -> None:
    """On `sla.breached` of an assisting unit's completion stage: it no longer holds up the
    lead's reply."""
    data = event.data
    if data.stage != "completion" or data.scope != "assignment":
        return
    assignment = await session.get(Assignment, data.assignment_id)
    if assignment is not None and assignment.role == "assist" and assignment.timed_out_at is None:
        assignment.timed_out_at = event.occurred_at


async def add_note(
    session: AsyncSession, assignment_id: str, body: NoteIn, *, who: Principal, now: datetime
) -> ProgressNote:
    """办理进展: a progress note on the unit's own assignment. The event carries no text."""
    assignment = await own_assignment(session, assignment_id, who)
    domain.may_note(assignment.status)
    note = ProgressNote(id=new_id("N"), assignment_id=assignment.id, text=body.text, noted_at=now)
    session.add(note)
    await outbox.emit(
        session,
        ProgressNoted(note_id=note.id, assignment_id=assignment.id, unit_id=assignment.unit_id),
        ticket_id=assignment.ticket_id,
        occurred_at=now,
    )
    return note


async def request_extension(
    session: AsyncSession, assignment_id: str, body: ExtensionIn, *, who: Principal, now: datetime
) -> ExtensionRequest:
    """延期申请: the unit asks for more working days; sla's centre staff decide."""
    assignment = await own_assignment(session, assignment_id, who)
    domain.may_request_extension(assignment.status)
    request = ExtensionRequest(
        id=new_id("X"),
        assignment_id=assignment.id,
        requested_days=body.days,
        reason=body.reason,
        requested_at=now,
    )
    session.add(request)
    await outbox.emit(
        session,
        ExtensionRequested(
            request_id=request.id,
            assignment_id=assignment.id,
            unit_id=assignment.unit_id,
            requested_days=body.days,
            reason=body.reason,
        ),
        ticket_id=assignment.ticket_id,
        occurred_at=now,
    )
    return request


async def forward(
    session: AsyncSession, assignment_id: str, body: ForwardIn, *, who: Principal, now: datetime
) -> Assignment:
    """下派: the district government passes a level-by-level dispatch to a unit in its area.
    Part of the one dispatch, so not counted as a re-dispatch."""
    assignment = await own_assignment(session, assignment_id, who)
    unit = await session.get(Unit, assignment.unit_id)
    assert unit is not None
    domain.may_forward(
        assignment.status, role=assignment.role, mode=assignment.mode, unit_kind=unit.kind
    )
    target = await active_unit(session, body.unit_id, "unit_id")
    parents = await area_parents(session)
    for unit_id in (target.id, *body.assist_unit_ids):
        u = await active_unit(
            session, unit_id, "assist_unit_ids" if unit_id != target.id else "unit_id"
        )
        if u.id == unit.id or not domain.within_area(u.area_code, unit.area_code, parents):
            field = "unit_id" if u.id == target.id else "assist_unit_ids"
            raise InvalidInput(
                f"{field}: {u.id} is not a unit within {unit.name}'s area {unit.area_code}.",
                field=field,
            )
    ticket = await get_ticket(session, assignment.ticket_id)
    await end_assignment(session, assignment, AssignmentStatus.FORWARDED, now, "forwarded")
    made = await dispatch(
        session,
        ticket,
        [(target.id, "lead"), *((u, "assist") for u in body.assist_unit_ids)],
        Grounds(
            mode="level",
            basis="forwarded",
            rule_id=assignment.rule_id,
            catalogue_version=assignment.catalogue_version,
            reason=f"逐级下派 by {unit.name}: {body.reason}",
            at=now,
        ),
    )
    return made[0]
