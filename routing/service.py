"""routing's use cases: load → decide with domain.py → write → add events to the outbox.

Dispatch (派单), the dispatcher's queue, manual dispatch and re-dispatch (改派), the unit's
workflow (签收 → 首次联系 → 办结反馈, progress notes, 延期), and re-handling rounds (重办). The
directory and catalogue live in `directory.py`, returns and joint determination in
`returns.py`, 吹哨报到 in `whistle.py`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import catalogue, domain
from routing.config import settings
from routing.models import (
    Area,
    Assignment,
    CatalogueVersion,
    ExtensionRequest,
    ProgressNote,
    ReplyTemplate,
    ReturnRequest,
    RoutedTicket,
    Rule,
    Unit,
    outbox,
    stamps,
)
from routing.schemas import DispatchIn, ExtensionIn, ForwardIn, NoteIn, ReplyIn, TemplateIn
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Envelope, Payload
from shared.events.callback import TicketReopened
from shared.events.intake import TicketReceived
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentRole,
    AssignmentSigned,
    AssignmentWithdrawn,
    ExtensionRequested,
    ProgressNoted,
    TicketDispatched,
    TicketKeySupervision,
    TicketReplied,
    WithdrawnReason,
)
from shared.events.sla import SlaBreached
from shared.stamped import Stamped


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16].upper()}"


def split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split("|") if v)


def join(values: Iterable[str]) -> str:
    return "|".join(values)


# --- the directory, as the rules need it -------------------------------------------------


@dataclass(frozen=True)
class DirectoryView:
    """The directory as dispatch reads it: area parents, units by (area, kind), catalogue
    versions and their rules. Read for every ticket and changed rarely, so cached (shared.stamped)
    and marked changed by any flush that writes an area, a unit, a version or a rule."""

    parents: dict[str, str | None]
    units_at: dict[tuple[str, str], str]
    versions: list[tuple[int, datetime]]
    rules: dict[int, list[domain.CatalogueRule]]

    def version_at(self, at: datetime) -> int | None:
        return catalogue.effective_version(self.versions, at)

    def rules_of(self, version: int | None) -> list[domain.CatalogueRule]:
        return list(self.rules.get(version, [])) if version is not None else []


async def _load_view(session: AsyncSession) -> DirectoryView:
    parents = await session.execute(select(Area.code, Area.parent_code))
    units = await session.execute(
        select(Unit.area_code, Unit.kind, Unit.id).where(Unit.active).order_by(Unit.id.desc())
    )
    versions = await session.execute(
        select(CatalogueVersion.version, CatalogueVersion.effective_from)
    )
    rules: dict[int, list[domain.CatalogueRule]] = {}
    for r in (await session.scalars(select(Rule).order_by(Rule.id))).all():
        rules.setdefault(r.version, []).append(rule_of(r))
    return DirectoryView(
        parents={code: parent for code, parent in parents.all()},
        units_at={(area, kind): unit_id for area, kind, unit_id in units.all()},
        versions=[(v, f) for v, f in versions.all()],
        rules=rules,
    )


_view = Stamped(stamps, "directory", _load_view)
_view.watch(Area, Unit, CatalogueVersion, Rule)


async def area_parents(session: AsyncSession) -> dict[str, str | None]:
    return (await _view.get(session)).parents


async def units_by_area_and_kind(session: AsyncSession) -> dict[tuple[str, str], str]:
    """(area, kind) → unit: how a role such as "role:street_office" is resolved."""
    return (await _view.get(session)).units_at


async def active_unit(session: AsyncSession, unit_id: str, field: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise InvalidInput(f"{field}: unknown or inactive unit '{unit_id}'.", field=field)
    return unit


def rule_of(r: Rule) -> domain.CatalogueRule:
    return domain.CatalogueRule(
        id=r.id,
        category=r.category,
        area_code=r.area_code,
        keywords=split(r.keywords),
        lead_unit_id=r.lead,
        assist_unit_ids=split(r.assists),
        version=r.version,
        mode=r.mode,
        row=r.row,
    )


async def version_in_force(session: AsyncSession, at: datetime) -> int | None:
    return (await _view.get(session)).version_at(at)


async def catalogue_rules(session: AsyncSession, version: int | None) -> list[domain.CatalogueRule]:
    return (await _view.get(session)).rules_of(version)


# --- dispatch --------------------------------------------------------------------------


async def decide(
    session: AsyncSession, ticket: RoutedTicket, at: datetime
) -> tuple[domain.DispatchPlan | None, domain.Decision | None, str]:
    """The catalogue's choice under its dispatch mode, or 首接负责, or None (the queue), with
    why."""
    view = await _view.get(session)  # one read of the stamp for the whole decision
    chain = domain.area_chain(ticket.area_code, view.parents)
    units_at = view.units_at
    decision = domain.lead_unit_for(
        category=ticket.category,
        text=f"{ticket.title} {ticket.description}",
        chain=chain,
        rules=view.rules_of(view.version_at(at)),
    )
    why = "no catalogue rule matched"
    if decision is not None:
        assert decision.rule is not None
        mode = decision.rule.mode or settings().default_mode
        plan = domain.plan_dispatch(decision, mode=mode, chain=chain, units_at=units_at)
        if plan is not None:
            return plan, decision, ""
        why = (
            f"rule {decision.rule.id} names {decision.lead_unit_id}, which has no unit in the area"
        )
    if settings().fallback == "first_receiving":
        offices = {area: unit for (area, kind), unit in units_at.items() if kind == "street_office"}
        first = domain.first_receiving_unit(chain, offices)
        if first is not None:
            reason = first.reason if decision is None else f"{why}; {first.reason.split('; ')[1]}"
            return (
                domain.DispatchPlan(first.lead_unit_id, (), "direct", reason),
                first,
                "",
            )
        why += "; no street office for 首接负责"
    return None, None, why


async def _dispatch(
    session: AsyncSession,
    ticket: RoutedTicket,
    units: Sequence[tuple[str, AssignmentRole]],
    *,
    mode: str,
    basis: str,
    rule_id: str | None,
    catalogue_version: int | None,
    reason: str,
    at: datetime,
    correlation_id: str | None = None,
) -> list[Assignment]:
    """New assignments for `units`, each announced by `ticket.dispatched`."""
    made = []
    for unit_id, role in units:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"unit '{unit_id}' does not exist", field="unit_id")
        assignment = Assignment(
            id=new_id("A"),
            ticket_id=ticket.id,
            unit_id=unit_id,
            role=role,
            round=ticket.round,
            status="dispatched",
            reason=reason[:300],
            rule_id=rule_id,
            catalogue_version=catalogue_version,
            dispatched_at=at,
            mode=mode,
            basis=basis,
        )
        session.add(assignment)
        made.append(assignment)
        await outbox.emit(
            session,
            TicketDispatched(
                assignment_id=assignment.id,
                unit_id=unit_id,
                unit_name=unit.name,
                unit_class=domain.unit_class_of(unit.kind),  # type: ignore[arg-type]
                role=role,
                kind=ticket.kind,  # type: ignore[arg-type]
                urgency=ticket.urgency,  # type: ignore[arg-type]
                rule_id=rule_id,
                catalogue_version=catalogue_version,
                dispatch_count=ticket.dispatch_count,
                round=ticket.round,
                mode=mode,  # type: ignore[arg-type]
                basis=basis,  # type: ignore[arg-type]
                return_count=ticket.return_count,
            ),
            ticket_id=ticket.id,
            occurred_at=at,
            correlation_id=correlation_id,
        )
    ticket.status = "dispatched"
    ticket.queued_reason = None
    return made


async def end_assignment(
    session: AsyncSession,
    assignment: Assignment,
    status: str,
    at: datetime,
    withdrawn: WithdrawnReason | None = None,
) -> None:
    """An assignment ends without the unit's reply; `withdrawn` announces it. A return it had
    pending is moot then: it is closed as withdrawn."""
    if assignment.status == "return_requested" and withdrawn is not None:
        pending = await session.scalars(
            select(ReturnRequest).where(
                ReturnRequest.assignment_id == assignment.id, ReturnRequest.status == "pending"
            )
        )
        for request in pending.all():
            request.status, request.decided_at = "withdrawn", at
            request.decision_note = f"assignment {withdrawn} before the return was decided"
    assignment.status = status
    assignment.ended_at = at
    if withdrawn is not None:
        await outbox.emit(
            session,
            AssignmentWithdrawn(
                assignment_id=assignment.id,
                unit_id=assignment.unit_id,
                role=cast(AssignmentRole, assignment.role),
                reason=withdrawn,
                round=assignment.round,
            ),
            ticket_id=assignment.ticket_id,
            occurred_at=at,
        )


async def count_dispatch(session: AsyncSession, ticket: RoutedTicket, at: datetime) -> None:
    """Every re-dispatch is counted; reaching the threshold puts the ticket under key
    supervision (重点督办), announced once."""
    ticket.dispatch_count += 1
    threshold = settings().key_supervision_dispatches
    if ticket.key_supervision_at is None and domain.under_key_supervision(
        ticket.dispatch_count, threshold
    ):
        ticket.key_supervision_at = at
        await outbox.emit(
            session,
            TicketKeySupervision(
                dispatch_count=ticket.dispatch_count, return_count=ticket.return_count
            ),
            ticket_id=ticket.id,
            occurred_at=at,
        )


async def dispatch_received(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.received`: pick the lead and assisting units and dispatch (派单)."""
    data = cast(TicketReceived, event.data())
    if data.answered:
        return  # answered on the spot at intake (在线解答): never dispatched
    if await session.get(RoutedTicket, event.ticket_id) is not None:
        return
    ticket = RoutedTicket(
        id=event.ticket_id,
        category=data.category,
        kind=data.kind,
        urgency=data.urgency,
        area_code=data.area_code,
        title=data.title,
        description=data.description,
        address=data.address,
        received_at=data.received_at,
        dispatch_count=0,
        return_count=0,
        round=1,
        status="queued",
    )
    session.add(ticket)
    plan, decision, why = await decide(session, ticket, event.occurred_at)
    if plan is None:
        ticket.queued_reason = f"{why}: waiting for a dispatcher"
        return
    ticket.dispatch_count = 1
    rule = decision.rule if decision else None
    await _dispatch(
        session,
        ticket,
        [(plan.lead_unit_id, "lead"), *((u, "assist") for u in plan.assist_unit_ids)],
        mode=plan.mode,
        basis="catalogue" if rule else "first_receiving",
        rule_id=rule.id if rule else None,
        catalogue_version=rule.version if rule else None,
        reason=plan.reason,
        at=event.occurred_at,
        correlation_id=event.correlation_id,
    )


async def _ticket(session: AsyncSession, ticket_id: str) -> RoutedTicket:
    ticket = await session.get(RoutedTicket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' is not known to routing.", field="ticket_id")
    return ticket


async def open_assignments(session: AsyncSession, ticket: RoutedTicket) -> list[Assignment]:
    rows = await session.scalars(
        select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.round == ticket.round)
        .order_by(Assignment.dispatched_at, Assignment.id)
    )
    return [a for a in rows.all() if a.status not in domain.ENDED]


async def _check_units(session: AsyncSession, lead: str, assists: Sequence[str] | None) -> None:
    await active_unit(session, lead, "lead_unit_id")
    for unit_id in assists or ():
        await active_unit(session, unit_id, "assist_unit_ids")
    if assists and lead in assists:
        raise InvalidInput(
            "assist_unit_ids: the lead unit cannot also assist.", field="assist_unit_ids"
        )


async def manual_dispatch(
    session: AsyncSession, ticket_id: str, body: DispatchIn, *, now: datetime
) -> RoutedTicket:
    """The dispatcher dispatches a ticket waiting in the queue (人工派单)."""
    ticket = await _ticket(session, ticket_id)
    if ticket.status != "queued":
        raise Conflict(
            "This ticket is already dispatched; re-dispatch it instead.",
            status_now=ticket.status,
            allowed_actions=["redispatch"],
        )
    await _check_units(session, body.lead_unit_id, body.assist_unit_ids)
    ticket.dispatch_count = 1
    await _dispatch(
        session,
        ticket,
        [(body.lead_unit_id, "lead"), *((u, "assist") for u in body.assist_unit_ids or ())],
        mode="direct",
        basis="manual",
        rule_id=None,
        catalogue_version=None,
        reason=f"人工派单: {body.reason}",
        at=now,
    )
    return ticket


async def redispatch(
    session: AsyncSession,
    ticket_id: str,
    *,
    lead_unit_id: str,
    assist_unit_ids: Sequence[str] | None,
    reason: str,
    now: datetime,
    basis: str = "redispatch",
    withdrawn: WithdrawnReason = "redispatched",
) -> RoutedTicket:
    """改派: the open lead is withdrawn and `lead_unit_id` leads; a list of assistants replaces
    the open ones, None keeps them. Counted; the second re-dispatch means key supervision."""
    ticket = await _ticket(session, ticket_id)
    if ticket.status == "queued":
        raise Conflict(
            "This ticket waits in the queue; dispatch it first.",
            status_now="queued",
            allowed_actions=["dispatch"],
        )
    current = await open_assignments(session, ticket)
    lead = next((a for a in current if a.role == "lead"), None)
    if lead is None:
        raise Conflict(
            "The lead unit of this round has already replied (or the lead is being returned "
            "and decided separately); nothing to re-dispatch.",
            status_now="replied",
            allowed_actions=[],
        )
    await _check_units(session, lead_unit_id, assist_unit_ids)
    if lead.unit_id == lead_unit_id:
        raise InvalidInput(
            f"lead_unit_id: {lead_unit_id} already leads this ticket.", field="lead_unit_id"
        )
    await end_assignment(session, lead, "withdrawn", now, withdrawn)
    units: list[tuple[str, AssignmentRole]] = [(lead_unit_id, "lead")]
    if assist_unit_ids is not None:
        for a in current:
            if a.role == "assist":
                await end_assignment(session, a, "withdrawn", now, withdrawn)
        units += [(u, "assist") for u in assist_unit_ids]
    await count_dispatch(session, ticket, now)
    await _dispatch(
        session,
        ticket,
        units,
        mode="direct",
        basis=basis,
        rule_id=None,
        catalogue_version=None,
        reason=f"改派（第{ticket.dispatch_count}次派发）: {reason}",
        at=now,
    )
    return ticket


async def redispatch_by_centre(
    session: AsyncSession, ticket_id: str, body: DispatchIn, *, now: datetime
) -> RoutedTicket:
    return await redispatch(
        session,
        ticket_id,
        lead_unit_id=body.lead_unit_id,
        assist_unit_ids=body.assist_unit_ids,
        reason=body.reason,
        now=now,
    )


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
    ticket = await _ticket(session, assignment.ticket_id)
    await end_assignment(session, assignment, "forwarded", now, "forwarded")
    made = await _dispatch(
        session,
        ticket,
        [(target.id, "lead"), *((u, "assist") for u in body.assist_unit_ids)],
        mode="level",
        basis="forwarded",
        rule_id=assignment.rule_id,
        catalogue_version=assignment.catalogue_version,
        reason=f"逐级下派 by {unit.name}: {body.reason}",
        at=now,
    )
    return made[0]


async def queue(session: AsyncSession) -> Sequence[RoutedTicket]:
    """The dispatcher's queue: tickets no rule (and no 首接负责) could place."""
    rows = await session.scalars(
        select(RoutedTicket)
        .where(RoutedTicket.status == "queued")
        .order_by(RoutedTicket.received_at)
    )
    return rows.all()


async def routed_ticket(
    session: AsyncSession, ticket_id: str, who: Principal
) -> tuple[RoutedTicket, list[Assignment]]:
    """A ticket's routing: counts, supervision, every assignment of every round."""
    ticket = await _ticket(session, ticket_id)
    rows = (
        await session.scalars(
            select(Assignment)
            .where(Assignment.ticket_id == ticket.id)
            .order_by(Assignment.round, Assignment.dispatched_at, Assignment.id)
        )
    ).all()
    if who.role is Role.UNIT and all(a.unit_id != who.unit_id for a in rows):
        raise Forbidden("This ticket was never dispatched to your unit.")
    return ticket, list(rows)


# --- the unit's workflow ------------------------------------------------------------------


async def get_assignment(session: AsyncSession, assignment_id: str, who: Principal) -> Assignment:
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"Assignment '{assignment_id}' does not exist.", field="assignment_id")
    if who.role is Role.UNIT and assignment.unit_id != who.unit_id:
        raise Forbidden("This assignment belongs to another unit.")
    return assignment


async def own_assignment(session: AsyncSession, assignment_id: str, who: Principal) -> Assignment:
    """An assignment the calling unit holds (the centre does not act for a unit)."""
    assignment = await get_assignment(session, assignment_id, who)
    if who.role is not Role.UNIT:
        raise Forbidden("Only the assigned unit acts on its assignment.")
    return assignment


async def can_forward(session: AsyncSession, a: Assignment) -> bool:
    if a.role != "lead" or a.mode != "level":
        return False
    unit = await session.get(Unit, a.unit_id)
    return unit is not None and unit.kind == "district_government"


async def worklist(
    session: AsyncSession, who: Principal, status: str | None
) -> Sequence[tuple[Assignment, RoutedTicket]]:
    """A unit's own assignments; the centre sees all."""
    query = (
        select(Assignment, RoutedTicket)
        .join(RoutedTicket, RoutedTicket.id == Assignment.ticket_id)
        .order_by(Assignment.dispatched_at.desc(), Assignment.id)
    )
    if who.role is Role.UNIT:
        query = query.where(Assignment.unit_id == who.unit_id)
    if status:
        query = query.where(Assignment.status == status)
    return cast(Sequence[tuple[Assignment, RoutedTicket]], (await session.execute(query)).all())


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
            await end_assignment(session, a, "timed_out", now, "timed_out")


async def assistant_breached(session: AsyncSession, event: Envelope) -> None:
    """On `sla.breached` of an assisting unit's completion stage: it no longer holds up the
    lead's reply."""
    data = cast(SlaBreached, event.data())
    if data.stage != "completion" or data.scope != "assignment":
        return
    assignment = await session.get(Assignment, data.assignment_id)
    if assignment is not None and assignment.role == "assist" and assignment.timed_out_at is None:
        assignment.timed_out_at = event.occurred_at


async def add_note(
    session: AsyncSession, assignment_id: str, body: NoteIn, *, who: Principal, now: datetime
) -> ProgressNote:
    """办理进展: a progress note on the unit's own assignment."""
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


async def notes(
    session: AsyncSession, assignment_id: str, who: Principal
) -> Sequence[ProgressNote]:
    assignment = await get_assignment(session, assignment_id, who)
    rows = await session.scalars(
        select(ProgressNote)
        .where(ProgressNote.assignment_id == assignment.id)
        .order_by(ProgressNote.noted_at, ProgressNote.id)
    )
    return rows.all()


async def add_template(session: AsyncSession, body: TemplateIn, *, now: datetime) -> ReplyTemplate:
    template = ReplyTemplate(
        id=new_id("T"),
        category=body.category.strip("/"),
        outcome=body.outcome,
        title=body.title,
        text=body.text,
        created_at=now,
    )
    session.add(template)
    return template


async def templates_for(session: AsyncSession, category: str | None) -> list[ReplyTemplate]:
    """规范答复 for a category: its own templates and its parents', the most specific first."""
    rows = (await session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id))).all()
    if category is None:
        return list(rows)
    fitting = [t for t in rows if domain.category_matches(t.category, category)]
    return sorted(fitting, key=lambda t: (-t.category.count("/"), t.id))


async def reopen(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.reopened`: the lead unit of the last round handles it again (重办)."""
    data = cast(TicketReopened, event.data())
    ticket = await session.get(RoutedTicket, event.ticket_id)
    if ticket is None:
        raise NotFound(f"re-open of unknown ticket {event.ticket_id}")
    last_lead = await session.scalar(
        select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.role == "lead")
        .order_by(Assignment.round.desc(), Assignment.dispatched_at.desc())
        .limit(1)
    )
    if last_lead is None:
        raise NotFound(f"ticket {ticket.id} has no lead unit to re-open to")
    ticket.round = data.round
    await _dispatch(
        session,
        ticket,
        [(last_lead.unit_id, "lead")],
        mode=last_lead.mode,
        basis="reopened",
        rule_id=last_lead.rule_id,
        catalogue_version=last_lead.catalogue_version,
        reason=f"重办（第{data.round}轮）：{data.reason}",
        at=event.occurred_at,
        correlation_id=event.correlation_id,
    )


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


async def load_directory(session: AsyncSession, **city: object) -> None:
    """The entry point `services.demo` calls; the work is `directory.load_directory`."""
    from routing import directory

    await directory.load_directory(session, **city)  # type: ignore[arg-type]
