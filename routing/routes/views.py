"""How routing's rows are shown: the response models built from the tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import additions, domain, reads
from routing.domain import AssignmentStatus
from routing.models import (
    Area,
    Assignment,
    CatalogueVersion,
    Determination,
    DirectoryVersion,
    ProgressNote,
    ReplyTemplate,
    ReturnRequest,
    RoutedTicket,
    Rule,
    Unit,
    Whistle,
    WhistleSummons,
)
from routing.reference import split
from routing.returns import window_closes_at
from routing.schemas import (
    AdditionOut,
    AreaFeature,
    AreaMap,
    AreaOut,
    AreaProperties,
    AssignmentOut,
    CatalogueVersionOut,
    DeterminationOut,
    DirectoryVersionOut,
    NoteOut,
    Polygon,
    ReturnOut,
    RoutedTicketOut,
    RuleOut,
    SummonsOut,
    TemplateOut,
    UnitOut,
    WhistleOut,
)
from shared.auth import Principal, Role
from shared.clock import aware, china_time

# A lead ended by the centre or by forwarding no longer leads; one that replied still does.
_NO_LONGER_LEADS = frozenset(
    {AssignmentStatus.WITHDRAWN, AssignmentStatus.RETURNED, AssignmentStatus.FORWARDED}
)


def assignment_out(a: Assignment, t: RoutedTicket, kinds: dict[str, str]) -> AssignmentOut:
    forward = (
        a.role == "lead" and a.mode == "level" and kinds.get(a.unit_id) == "district_government"
    )
    return AssignmentOut(
        id=a.id,
        ticket_id=a.ticket_id,
        unit_id=a.unit_id,
        role=a.role,
        round=a.round,
        status=a.status,
        allowed_actions=sorted(domain.WORKFLOW.get(a.status, {})),
        also_allowed=domain.also_allowed(a.status, can_forward=forward),
        mode=a.mode,
        basis=a.basis,
        rule_id=a.rule_id,
        catalogue_version=a.catalogue_version,
        return_window_closes_at=china_time(window_closes_at(a)),
        title=t.title,
        description=t.description,
        category=t.category,
        address=t.address,
        reason=a.reason,
        dispatched_at=china_time(a.dispatched_at),
        signed_at=china_time(a.signed_at),
        contacted_at=china_time(a.contacted_at),
        replied_at=china_time(a.replied_at),
        outcome=a.outcome,
        explanation=a.explanation,
        unsolvable_reason=a.unsolvable_reason,
        legal_path=a.legal_path,
    )


async def unit_kinds(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Unit.id, Unit.kind))
    return {unit_id: kind for unit_id, kind in rows.all()}


async def assignment_with_ticket(session: AsyncSession, a: Assignment) -> AssignmentOut:
    ticket = await session.get(RoutedTicket, a.ticket_id)
    assert ticket is not None
    return assignment_out(a, ticket, await unit_kinds(session))


def area_out(a: Area) -> AreaOut:
    return AreaOut(
        code=a.code,
        name=a.name,
        level=a.level,
        parent=a.parent_code,
        aliases=list(split(a.aliases)),
        boundary=[(p[0], p[1]) for p in a.boundary] if a.boundary else None,
        active=a.active,
        version=a.version,
    )


def area_map(areas: Iterable[Area]) -> AreaMap:
    """The areas that have a boundary, as GeoJSON features; GeoJSON closes each ring by
    repeating its first point, which the directory does not store."""
    return AreaMap(
        features=[
            AreaFeature(
                id=a.code,
                properties=AreaProperties(
                    code=a.code, name=a.name, level=a.level, parent=a.parent_code
                ),
                geometry=Polygon(
                    coordinates=[[(p[0], p[1]) for p in [*a.boundary, a.boundary[0]]]]
                ),
            )
            for a in areas
            if a.boundary
        ]
    )


def unit_out(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.id,
        name=u.name,
        kind=u.kind,
        unit_class=domain.unit_class_of(u.kind),  # type: ignore[arg-type]
        area_code=u.area_code,
        active=u.active,
        version=u.version,
    )


def rule_out(r: Rule) -> RuleOut:
    return RuleOut(
        id=r.id,
        category=r.category,
        area=r.area_code,
        keywords=list(split(r.keywords)),
        lead=r.lead,
        assist=list(split(r.assists)),
        mode=r.mode,
        version=r.version,
    )


def catalogue_version_out(v: CatalogueVersion, in_force: int | None) -> CatalogueVersionOut:
    return CatalogueVersionOut(
        version=v.version,
        effective_from=china_time(v.effective_from),
        source=v.source,
        note=v.note,
        rule_count=v.rule_count,
        created_at=china_time(v.created_at),
        created_by=v.created_by,
        in_force=v.version == in_force,
    )


def directory_version_out(v: DirectoryVersion) -> DirectoryVersionOut:
    return DirectoryVersionOut(
        version=v.version,
        source=v.source,
        areas=v.areas,
        units=v.units,
        created_at=china_time(v.created_at),
        created_by=v.created_by,
    )


def _return_view(r: ReturnRequest, a: Assignment) -> ReturnOut:
    return ReturnOut(
        id=r.id,
        assignment_id=r.assignment_id,
        ticket_id=r.ticket_id,
        unit_id=r.unit_id,
        reason_code=r.reason_code,
        explanation=r.explanation,
        status=r.status,
        requested_at=china_time(r.requested_at),
        window_closes_at=china_time(window_closes_at(a)),
        decided_at=china_time(r.decided_at),
        decision_note=r.decision_note,
        redispatched_to=r.redispatched_to,
    )


async def return_out(session: AsyncSession, r: ReturnRequest) -> ReturnOut:
    a = await session.get(Assignment, r.assignment_id)
    assert a is not None
    return _return_view(r, a)


def whistle_out(w: Whistle, summons: list[WhistleSummons], now: datetime) -> WhistleOut:
    return WhistleOut(
        id=w.id,
        ticket_id=w.ticket_id,
        unit_id=w.unit_id,
        reason=w.reason,
        blown_at=china_time(w.blown_at),
        respond_by=china_time(w.respond_by),
        summons=[
            SummonsOut(
                unit_id=s.unit_id,
                reported_at=china_time(s.reported_at),
                report=s.report,
                late=s.late,
                overdue=s.reported_at is None and now > aware(w.respond_by),
            )
            for s in summons
        ],
    )


def determination_out(d: Determination) -> DeterminationOut:
    return DeterminationOut(
        id=d.id,
        ticket_id=d.ticket_id,
        participants=list(split(d.participants)),
        lead_unit_id=d.lead_unit_id,
        assist_unit_ids=list(split(d.assist_unit_ids)),
        decision=d.decision,
        rule_id=d.rule_id,
        catalogue_version=d.catalogue_version,
        decided_at=china_time(d.decided_at),
    )


def template_out(t: ReplyTemplate) -> TemplateOut:
    return TemplateOut(id=t.id, category=t.category, outcome=t.outcome, title=t.title, text=t.text)


def note_out(n: ProgressNote) -> NoteOut:
    return NoteOut(
        id=n.id, assignment_id=n.assignment_id, text=n.text, noted_at=china_time(n.noted_at)
    )


async def ticket_out(session: AsyncSession, ticket_id: str, who: Principal) -> RoutedTicketOut:
    ticket, assignments = await reads.routed_ticket(session, ticket_id, who)
    kinds = await unit_kinds(session)
    visible = [a for a in assignments if who.role is not Role.UNIT or a.unit_id == who.unit_id]
    lead = next(
        (a for a in reversed(assignments) if a.role == "lead" and a.status not in _NO_LONGER_LEADS),
        None,
    )
    return RoutedTicketOut(
        id=ticket.id,
        category=ticket.category,
        area_code=ticket.area_code,
        status=ticket.status,
        queued_reason=ticket.queued_reason,
        round=ticket.round,
        dispatch_count=ticket.dispatch_count,
        redispatch_count=max(ticket.dispatch_count - 1, 0),
        return_count=ticket.return_count,
        key_supervision=ticket.key_supervision_at is not None,
        lead_unit_id=lead.unit_id if lead else None,
        assignments=[assignment_out(a, ticket, kinds) for a in visible],
        additions=[
            AdditionOut(
                source=x.source,
                text=x.text,
                attachments=x.attachments,
                added_at=china_time(x.added_at),
            )
            for x in await additions.additions_of(session, ticket.id)
        ],
    )
