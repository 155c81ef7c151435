"""routing's routes: the directory and catalogue, dispatch, the units' worklists and actions,
returns, joint determination and 吹哨报到. Thin: each route names its roles, opens the unit of
work and calls one use case.

Roles: a unit acts only on its own assignments; operators and supervisors (the centre's
dispatchers) dispatch, re-dispatch, decide returns and record joint determinations;
supervisors manage the directory, the catalogue and reply templates; the centre reads all."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import (
    directory,
    dispatcher,
    domain,
    reads,
    returns,
    standard_replies,
    whistle,
    workflow,
)
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
    AreaIn,
    AreaOut,
    AreaPatch,
    AssignmentOut,
    CandidateOut,
    CatalogueIn,
    CatalogueVersionOut,
    DeterminationIn,
    DeterminationOut,
    DirectoryVersionOut,
    DispatchIn,
    ExplainIn,
    ExplainOut,
    ExtensionIn,
    ExtensionOut,
    ForwardIn,
    ImportOut,
    NoteIn,
    NoteOut,
    ReplyIn,
    ReturnDecisionIn,
    ReturnIn,
    ReturnOut,
    RoutedTicketOut,
    RuleOut,
    SummonsOut,
    TemplateIn,
    TemplateOut,
    UnitIn,
    UnitOut,
    UnitPatch,
    WhistleIn,
    WhistleOut,
    WhistleReportIn,
)
from shared.auth import Principal, Role, require
from shared.clock import aware, china_time
from shared.errors import InvalidInput
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/api/v1", tags=["routing"])

Session = Annotated[AsyncSession, Depends(session_dependency("routing"))]
Now = Annotated[datetime, Depends(current_time)]
UnitOnly = Annotated[Principal, Depends(require(Role.UNIT))]
Reader = Annotated[
    Principal, Depends(require(Role.UNIT, Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))
]
Centre = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))]
Dispatcher = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(require(Role.SUPERVISOR))]

MAX_UPLOAD = 10 * 1024 * 1024


# --- views ------------------------------------------------------------------------------


def _out(a: Assignment, t: RoutedTicket, kinds: dict[str, str]) -> AssignmentOut:
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


async def _kinds(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Unit.id, Unit.kind))
    return {unit_id: kind for unit_id, kind in rows.all()}


async def _with_ticket(session: AsyncSession, a: Assignment) -> AssignmentOut:
    ticket = await session.get(RoutedTicket, a.ticket_id)
    assert ticket is not None
    return _out(a, ticket, await _kinds(session))


def _area(a: Area) -> AreaOut:
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


def _unit(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.id,
        name=u.name,
        kind=u.kind,
        unit_class=domain.unit_class_of(u.kind),  # type: ignore[arg-type]
        area_code=u.area_code,
        active=u.active,
        version=u.version,
    )


def _rule(r: Rule) -> RuleOut:
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


def _version(v: CatalogueVersion, in_force: int | None) -> CatalogueVersionOut:
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


def _dir_version(v: DirectoryVersion) -> DirectoryVersionOut:
    return DirectoryVersionOut(
        version=v.version,
        source=v.source,
        areas=v.areas,
        units=v.units,
        created_at=china_time(v.created_at),
        created_by=v.created_by,
    )


def _return(r: ReturnRequest, a: Assignment) -> ReturnOut:
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


async def _return_out(session: AsyncSession, r: ReturnRequest) -> ReturnOut:
    a = await session.get(Assignment, r.assignment_id)
    assert a is not None
    return _return(r, a)


def _whistle(w: Whistle, summons: list[WhistleSummons], now: datetime) -> WhistleOut:
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


def _determination(d: Determination) -> DeterminationOut:
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


def _template(t: ReplyTemplate) -> TemplateOut:
    return TemplateOut(id=t.id, category=t.category, outcome=t.outcome, title=t.title, text=t.text)


def _note(n: ProgressNote) -> NoteOut:
    return NoteOut(
        id=n.id, assignment_id=n.assignment_id, text=n.text, noted_at=china_time(n.noted_at)
    )


async def _upload(file: UploadFile) -> tuple[str, bytes]:
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("file: larger than 10 MB.", field="file")
    return file.filename or "", content


# --- areas and units (the directory) --------------------------------------------------------


@router.get("/areas", response_model=list[AreaOut])
async def list_areas(session: Session, who: Centre, parent: str | None = None) -> list[AreaOut]:
    """The administrative hierarchy: city › district › street/township › community › grid."""
    return [_area(a) for a in await directory.list_areas(session, parent)]


@router.post("/areas", status_code=201, response_model=AreaOut)
async def create_area(body: AreaIn, session: Session, now: Now, who: Admin) -> AreaOut:
    async with session.begin():
        area = await directory.create_area(session, body, who=who, now=now)
    return _area(area)


@router.get("/areas/{code}", response_model=AreaOut)
async def get_area(code: str, session: Session, who: Centre) -> AreaOut:
    return _area(await directory.get_area(session, code))


@router.patch("/areas/{code}", response_model=AreaOut)
async def update_area(
    code: str, body: AreaPatch, session: Session, now: Now, who: Admin
) -> AreaOut:
    async with session.begin():
        area = await directory.update_area(session, code, body, who=who, now=now)
    return _area(area)


@router.delete("/areas/{code}", response_model=AreaOut)
async def deactivate_area(code: str, session: Session, now: Now, who: Admin) -> AreaOut:
    """Deactivates an area with no active sub-areas or units (old tickets still name it)."""
    async with session.begin():
        area = await directory.deactivate_area(session, code, who=who, now=now)
    return _area(area)


@router.get("/units", response_model=list[UnitOut])
async def units(session: Session, who: Centre, area: str | None = None) -> list[UnitOut]:
    """Handling units (承办单位), each tied to its area."""
    return [_unit(u) for u in await directory.list_units(session, area)]


@router.post("/units", status_code=201, response_model=UnitOut)
async def create_unit(body: UnitIn, session: Session, now: Now, who: Admin) -> UnitOut:
    async with session.begin():
        unit = await directory.create_unit(session, body, who=who, now=now)
    return _unit(unit)


@router.get("/units/{unit_id}", response_model=UnitOut)
async def get_unit(unit_id: str, session: Session, who: Centre) -> UnitOut:
    return _unit(await directory.get_unit(session, unit_id))


@router.patch("/units/{unit_id}", response_model=UnitOut)
async def update_unit(
    unit_id: str, body: UnitPatch, session: Session, now: Now, who: Admin
) -> UnitOut:
    async with session.begin():
        unit = await directory.update_unit(session, unit_id, body, who=who, now=now)
    return _unit(unit)


@router.delete("/units/{unit_id}", response_model=UnitOut)
async def deactivate_unit(unit_id: str, session: Session, now: Now, who: Admin) -> UnitOut:
    """Deactivates a unit no rule in force names and that holds no open assignment."""
    async with session.begin():
        unit = await directory.deactivate_unit(session, unit_id, who=who, now=now)
    return _unit(unit)


@router.post("/directory/import", status_code=201, response_model=ImportOut)
async def import_directory(
    file: Annotated[
        UploadFile, File(description=".csv (one table) or .xlsx (sheets areas, units)")
    ],
    session: Session,
    now: Now,
    who: Admin,
    table: Annotated[str, Form(pattern="^(areas|units)$")] = "areas",
) -> ImportOut:
    """Bulk import of areas and units: all rows or, on any problem, none."""
    filename, content = await _upload(file)
    async with session.begin():
        v = await directory.import_directory(
            session, filename, content, table=table, who=who, now=now
        )
    return ImportOut(version=v.version, areas=v.areas, units=v.units)


@router.get("/directory/versions", response_model=list[DirectoryVersionOut])
async def directory_versions(session: Session, who: Centre) -> list[DirectoryVersionOut]:
    return [_dir_version(v) for v in await directory.directory_versions(session)]


# --- the catalogue (职责清单) ----------------------------------------------------------------


@router.get("/catalogue/versions", response_model=list[CatalogueVersionOut])
async def catalogue_versions(session: Session, now: Now, who: Centre) -> list[CatalogueVersionOut]:
    versions, in_force = await directory.catalogue_versions(session, now)
    return [_version(v, in_force) for v in versions]


@router.post("/catalogue/versions", status_code=201, response_model=CatalogueVersionOut)
async def create_catalogue(
    body: CatalogueIn, session: Session, now: Now, who: Admin
) -> CatalogueVersionOut:
    """A new catalogue version (the complete rule set) in force from `effective_from`."""
    async with session.begin():
        v = await directory.create_catalogue(session, body, who=who, now=now)
    return _version(v, None)


@router.post("/catalogue/import", status_code=201, response_model=CatalogueVersionOut)
async def import_catalogue(
    file: Annotated[UploadFile, File(description=".csv or .xlsx (sheet 'rules')")],
    session: Session,
    now: Now,
    who: Admin,
    effective_from: Annotated[datetime | None, Form()] = None,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> CatalogueVersionOut:
    """A catalogue version from a file; conflicting rows are refused, each named."""
    if effective_from is not None and effective_from.tzinfo is None:
        raise InvalidInput("effective_from: give a time zone, e.g. +08:00.", field="effective_from")
    filename, content = await _upload(file)
    async with session.begin():
        v = await directory.import_catalogue(
            session, filename, content, effective_from=effective_from, note=note, who=who, now=now
        )
    return _version(v, None)


@router.get("/catalogue/rules", response_model=list[RuleOut])
async def catalogue_rules(
    session: Session, now: Now, who: Centre, version: int | None = None
) -> list[RuleOut]:
    """The rules of a version (default: the one in force now)."""
    _, rules = await directory.rules_of(session, version, now)
    return [_rule(r) for r in rules]


@router.post("/catalogue/explain", response_model=ExplainOut)
async def explain(body: ExplainIn, session: Session, now: Now, who: Centre) -> ExplainOut:
    """Which unit would lead a ticket, by which rule and why, and every rule that applies."""
    found = await directory.explain(
        session, category=body.category, area_code=body.area_code, text=body.text, at=body.at or now
    )
    candidates = [
        CandidateOut(
            rule=RuleOut(
                id=c.rule.id,
                category=c.rule.category,
                area=c.rule.area_code,
                keywords=list(c.rule.keywords),
                lead=c.rule.lead_unit_id,
                assist=list(c.rule.assist_unit_ids),
                mode=c.rule.mode,
                version=c.rule.version,
            ),
            specificity=list(c.specificity),
        )
        for c in found.pop("candidates")
    ]
    return ExplainOut(**found, candidates=candidates)


@router.get("/reply-templates", response_model=list[TemplateOut])
async def reply_templates(
    session: Session, who: Reader, category: str | None = None
) -> list[TemplateOut]:
    """规范答复: templates for a category and its parents, the most specific first."""
    return [_template(t) for t in await standard_replies.templates_for(session, category)]


@router.post("/reply-templates", status_code=201, response_model=TemplateOut)
async def add_template(body: TemplateIn, session: Session, now: Now, who: Admin) -> TemplateOut:
    async with session.begin():
        t = await standard_replies.add_template(session, body, now=now)
    return _template(t)


# --- dispatch (派单) ------------------------------------------------------------------------


async def _ticket_out(session: AsyncSession, ticket_id: str, who: Principal) -> RoutedTicketOut:
    ticket, assignments = await reads.routed_ticket(session, ticket_id, who)
    kinds = await _kinds(session)
    visible = [a for a in assignments if who.role is not Role.UNIT or a.unit_id == who.unit_id]
    lead = next(
        (
            a
            for a in reversed(assignments)
            if a.role == "lead"
            and a.status
            not in (
                AssignmentStatus.WITHDRAWN,
                AssignmentStatus.RETURNED,
                AssignmentStatus.FORWARDED,
            )
        ),
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
        assignments=[_out(a, ticket, kinds) for a in visible],
    )


@router.get("/routing/queue", response_model=list[RoutedTicketOut])
async def dispatch_queue(session: Session, who: Dispatcher) -> list[RoutedTicketOut]:
    """The dispatcher's queue: tickets no rule placed (when the fallback is the queue)."""
    return [await _ticket_out(session, t.id, who) for t in await dispatcher.queue(session)]


@router.get("/routing/tickets/{ticket_id}", response_model=RoutedTicketOut)
async def routed_ticket(ticket_id: str, session: Session, who: Reader) -> RoutedTicketOut:
    """A ticket's routing: counts, supervision, assignments (a unit sees only its own)."""
    return await _ticket_out(session, ticket_id, who)


@router.post("/routing/tickets/{ticket_id}/dispatch", response_model=RoutedTicketOut)
async def manual_dispatch(
    ticket_id: str, body: DispatchIn, session: Session, now: Now, who: Dispatcher
) -> RoutedTicketOut:
    """人工派单 from the queue."""
    async with session.begin():
        await dispatcher.manual_dispatch(session, ticket_id, body, now=now)
    return await _ticket_out(session, ticket_id, who)


@router.post("/routing/tickets/{ticket_id}/redispatch", response_model=RoutedTicketOut)
async def redispatch(
    ticket_id: str, body: DispatchIn, session: Session, now: Now, who: Dispatcher
) -> RoutedTicketOut:
    """改派: a new lead (and optionally new assistants); counted."""
    async with session.begin():
        await dispatcher.redispatch_by_centre(session, ticket_id, body, now=now)
    return await _ticket_out(session, ticket_id, who)


@router.post(
    "/routing/tickets/{ticket_id}/determinations", status_code=201, response_model=DeterminationOut
)
async def determine(
    ticket_id: str, body: DeterminationIn, session: Session, now: Now, who: Dispatcher
) -> DeterminationOut:
    """联合认定: record who is responsible; may re-dispatch and add a catalogue rule."""
    async with session.begin():
        d = await returns.determine(session, ticket_id, body, who=who, now=now)
    return _determination(d)


@router.get("/routing/tickets/{ticket_id}/determinations", response_model=list[DeterminationOut])
async def determinations(ticket_id: str, session: Session, who: Centre) -> list[DeterminationOut]:
    return [_determination(d) for d in await returns.determinations(session, ticket_id)]


@router.post("/routing/tickets/{ticket_id}/whistles", status_code=201, response_model=WhistleOut)
async def blow_whistle(
    ticket_id: str, body: WhistleIn, session: Session, now: Now, who: UnitOnly
) -> WhistleOut:
    """吹哨: the street or community holding the ticket summons departments to report."""
    async with session.begin():
        w = await whistle.blow(session, ticket_id, body, who=who, now=now)
    found, summons = await whistle.get_whistle(session, w.id, who)
    return _whistle(found, summons, now)


# --- the unit's worklist and workflow ------------------------------------------------------------


@router.get("/assignments", response_model=list[AssignmentOut])
async def worklist(
    session: Session,
    who: Reader,
    status: Annotated[
        str | None,
        Query(description="dispatched, signed, contacted, replied, return_requested, …"),
    ] = None,
) -> list[AssignmentOut]:
    """The worklist: a unit sees its own assignments, the centre sees all."""
    kinds = await _kinds(session)
    return [_out(a, t, kinds) for a, t in await reads.worklist(session, who, status)]


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut)
async def get_assignment(assignment_id: str, session: Session, who: Reader) -> AssignmentOut:
    return await _with_ticket(session, await reads.get_assignment(session, assignment_id, who))


@router.post("/assignments/{assignment_id}/sign", response_model=AssignmentOut)
async def sign(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """签收: the unit takes the ticket."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "sign", who=who, now=now)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/contact", response_model=AssignmentOut)
async def contact(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """首次联系: the unit has contacted the citizen (this is the response)."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "contact", who=who, now=now)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/reply", response_model=AssignmentOut)
async def reply(
    assignment_id: str, body: ReplyIn, session: Session, now: Now, who: UnitOnly
) -> AssignmentOut:
    """办结反馈: outcome (solved / partly_solved / unsolvable with reason and legal path) and
    the explanation for the citizen. Assistants reply to the lead; the lead's reply closes the
    handling once every assistant has replied or timed out."""
    async with session.begin():
        a = await workflow.act(session, assignment_id, "reply", who=who, now=now, reply=body)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(
    assignment_id: str, body: NoteIn, session: Session, now: Now, who: UnitOnly
) -> NoteOut:
    """办理进展: a progress note while the work is under way."""
    async with session.begin():
        n = await workflow.add_note(session, assignment_id, body, who=who, now=now)
    return _note(n)


@router.get("/assignments/{assignment_id}/notes", response_model=list[NoteOut])
async def notes(assignment_id: str, session: Session, who: Reader) -> list[NoteOut]:
    return [_note(n) for n in await reads.notes(session, assignment_id, who)]


@router.post("/assignments/{assignment_id}/extension", status_code=202, response_model=ExtensionOut)
async def request_extension(
    assignment_id: str, body: ExtensionIn, session: Session, now: Now, who: UnitOnly
) -> ExtensionOut:
    """延期申请: ask the centre for more working days; sla approves or refuses."""
    async with session.begin():
        r = await workflow.request_extension(session, assignment_id, body, who=who, now=now)
    return ExtensionOut(
        id=r.id,
        assignment_id=r.assignment_id,
        requested_days=r.requested_days,
        reason=r.reason,
        requested_at=china_time(r.requested_at),
    )


@router.post("/assignments/{assignment_id}/return", status_code=202, response_model=ReturnOut)
async def request_return(
    assignment_id: str, body: ReturnIn, session: Session, now: Now, who: UnitOnly
) -> ReturnOut:
    """退单: not this unit's ticket; within the window after dispatch; the centre decides."""
    async with session.begin():
        r = await returns.request_return(session, assignment_id, body, who=who, now=now)
    return await _return_out(session, r)


@router.post("/assignments/{assignment_id}/forward", response_model=AssignmentOut)
async def forward(
    assignment_id: str, body: ForwardIn, session: Session, now: Now, who: UnitOnly
) -> AssignmentOut:
    """下派 (level-by-level dispatch): a district government passes the ticket down."""
    async with session.begin():
        a = await workflow.forward(session, assignment_id, body, who=who, now=now)
    return await _with_ticket(session, a)


# --- returns (退单) ------------------------------------------------------------------------


@router.get("/returns", response_model=list[ReturnOut])
async def list_returns(
    session: Session,
    who: Reader,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|withdrawn)$")] = None,
    ticket_id: str | None = None,
) -> list[ReturnOut]:
    """Returns: a unit sees its own, the centre all (`status=pending` is the centre's to-do)."""
    return [
        await _return_out(session, r)
        for r in await returns.list_returns(session, who, status, ticket_id)
    ]


@router.get("/returns/{return_id}", response_model=ReturnOut)
async def get_return(return_id: str, session: Session, who: Reader) -> ReturnOut:
    return await _return_out(session, await returns.get_return(session, return_id, who))


@router.post("/returns/{return_id}/approve", response_model=ReturnOut)
async def approve_return(
    return_id: str, body: ReturnDecisionIn, session: Session, now: Now, who: Dispatcher
) -> ReturnOut:
    async with session.begin():
        r = await returns.approve(session, return_id, body, who=who, now=now)
    return await _return_out(session, r)


@router.post("/returns/{return_id}/reject", response_model=ReturnOut)
async def reject_return(
    return_id: str, body: ReturnDecisionIn, session: Session, now: Now, who: Dispatcher
) -> ReturnOut:
    async with session.begin():
        r = await returns.reject(session, return_id, body, who=who, now=now)
    return await _return_out(session, r)


# --- 吹哨报到 --------------------------------------------------------------------------------


@router.get("/whistles", response_model=list[WhistleOut])
async def list_whistles(
    session: Session, now: Now, who: Reader, ticket_id: str | None = None
) -> list[WhistleOut]:
    return [_whistle(w, s, now) for w, s in await whistle.list_whistles(session, who, ticket_id)]


@router.get("/whistles/{whistle_id}", response_model=WhistleOut)
async def get_whistle(whistle_id: str, session: Session, now: Now, who: Reader) -> WhistleOut:
    w, s = await whistle.get_whistle(session, whistle_id, who)
    return _whistle(w, s, now)


@router.post("/whistles/{whistle_id}/report", response_model=WhistleOut)
async def report(
    whistle_id: str, body: WhistleReportIn, session: Session, now: Now, who: UnitOnly
) -> WhistleOut:
    """报到: a summoned department reports; late when past `respond_by`."""
    async with session.begin():
        w, s = await whistle.report(session, whistle_id, body, who=who, now=now)
    return _whistle(w, s, now)
