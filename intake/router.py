"""intake's routes: thin adapters; domain errors become problem+json."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake import (
    additions,
    admission,
    channels,
    classify,
    domain,
    idempotency,
    miniprogram,
    open311,
    protection,
    reads,
    same_matter,
    suggestion_models,
    taxonomy,
)
from intake.config import settings
from intake.models import Ticket, TimelineEntry
from intake.schemas import (
    CategoryCandidate,
    CategoryScore,
    Channel,
    CitizenOut,
    ClassifyIn,
    ClassifyOut,
    LabelCandidate,
    LeadUnitSuggestion,
    LearnedSuggestion,
    OperatorInfoIn,
    RepeatOut,
    ReportAccepted,
    SuggestionShown,
    TicketIn,
    TicketOut,
    TicketSummary,
    TimelineOut,
    UnitCandidate,
    UnitRef,
)
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.errors import Forbidden, InvalidInput
from shared.problems import AUTHENTICATED, problem_responses
from shared.redaction import mask_name, redact, redact_optional
from shared.runtime import current_time, session_dependency

tickets = APIRouter(
    prefix="/api/v1/tickets", tags=["intake"], responses=problem_responses(*AUTHENTICATED)
)
channel_reports = APIRouter(
    prefix="/api/v1", tags=["intake"], responses=problem_responses(*AUTHENTICATED)
)

Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]
Reporter = Annotated[Principal, Depends(require(Role.GATEWAY, Role.OPERATOR))]
Reader = Annotated[
    Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE, Role.UNIT))
]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="a gateway's retry with the same key gets the same ticket back",
    ),
]


def _lead(ticket: Ticket) -> UnitRef | None:
    return (
        UnitRef(id=ticket.lead_unit_id, name=ticket.lead_unit_name) if ticket.lead_unit_id else None
    )


def sees_personal_data(reader: Principal) -> bool:
    """Operators see what the citizen said as they said it, phone and name included; every
    other reader (supervisors, units, services) sees it redacted (脱敏)."""
    return reader.role is Role.OPERATOR


def _shown(reader: Principal, ticket: Ticket) -> Callable[[str], str]:
    """How a text of this ticket reads for `reader`: as it is, or redacted with the citizen's
    own name."""
    if sees_personal_data(reader):
        return lambda text: text
    names = [ticket.citizen_name]
    return lambda text: redact(text, names)


def _summary(ticket: Ticket, reader: Principal) -> TicketSummary:
    return TicketSummary(
        id=ticket.id,
        status=ticket.status,
        status_text=domain.STATUS_TEXT[ticket.status],
        channel=ticket.channel,
        category=ticket.category,
        title=_shown(reader, ticket)(ticket.title),
        area_code=ticket.area_code,
        lead_unit=_lead(ticket),
        received_at=china_time(ticket.received_at),
        repeat_count=ticket.repeat_count or 0,
        cluster_id=ticket.cluster_id,
    )


async def full_ticket(
    session: AsyncSession,
    ticket: Ticket,
    reader: Principal,
    *,
    timeline: Sequence[TimelineEntry] | None = None,
) -> TicketOut:
    """The whole ticket. An operator sees it all; anyone else sees the texts redacted (脱敏),
    the phone and name masked, and no channel ids. `timeline`: a ticket just accepted, as
    written (it has no repeats yet)."""
    operator = sees_personal_data(reader)
    shown = _shown(reader, ticket)
    phone = ticket.citizen_phone if operator else domain.mask_phone(ticket.citizen_phone)
    name_given = ticket.citizen_name
    name = name_given if operator else mask_name(name_given)
    entries = timeline if timeline is not None else await reads.timeline(session, ticket.id)
    repeats = [] if timeline is not None else await reads.repeats(session, ticket.id)
    return TicketOut(
        **_summary(ticket, reader).model_dump(exclude={"lead_unit"}),
        kind=ticket.kind,
        urgency=ticket.urgency,
        description=shown(ticket.description),
        address=ticket.address if operator else redact_optional(ticket.address, [name_given]),
        lead_unit=_lead(ticket),
        citizen=CitizenOut(name=name, phone=phone, anonymous=ticket.anonymous),
        timeline=[
            TimelineOut(at=china_time(e.at), event=e.event_type, text=shown(e.text))
            for e in entries
        ],
        longitude=ticket.longitude,
        latitude=ticket.latitude,
        attachments=ticket.attachments if operator else _attachments_shown(ticket, shown),
        channel_refs=ticket.channel_refs if operator else None,
        category_source=ticket.category_source,
        classification_reasons=ticket.classification_reasons or [],
        repeats=[
            RepeatOut(
                id=r.id,
                channel=r.channel,
                title=shown(r.title),
                description=shown(r.description),
                similarity=r.similarity,
                received_at=china_time(r.received_at),
            )
            for r in repeats
        ],
        expected_at=china_time(ticket.expected_at),
        same_matter_of=ticket.same_matter_of,
        suggestion=_suggestion_shown(ticket),
    )


def _suggestion_shown(ticket: Ticket) -> SuggestionShown | None:
    if not ticket.suggested_top or ticket.suggestion_source not in ("model", "keywords"):
        return None
    return SuggestionShown(
        top=ticket.suggested_top,
        source=ticket.suggestion_source,  # type: ignore[arg-type]
        model_version=ticket.suggestion_model,
    )


def _attachments_shown(ticket: Ticket, shown: Callable[[str], str]) -> list[dict[str, Any]]:
    """Attachments with their file names redacted (a photo named after a phone number)."""
    return [
        {**a, "name": shown(a["name"])} if isinstance(a.get("name"), str) else a
        for a in ticket.attachments or []
    ]


@tickets.post("", status_code=201, response_model=TicketOut, responses=problem_responses(409, 413))
async def receive_ticket(
    report: TicketIn,
    session: Session,
    now: Now,
    who: Reporter,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketOut:
    """gateway, operator: accept a citizen's report in the unified form (受理). An operator may
    answer a consultation on the spot (`answer`): it is closed at intake and called back. A
    retry with the same `Idempotency-Key` gets the same ticket (200)."""
    if report.answer is not None and who.role is not Role.OPERATOR:
        raise Forbidden("Only an operator answers a consultation on the spot.")
    submission = admission.Submission(
        report,
        sender=who.subject,
        idempotency_key=idempotency_key,
        body_hash=idempotency.request_hash(report.model_dump(mode="json")),
        link_repeats=settings().link_repeats_on_form,
    )
    accepted = await admission.accept(session, submission, now=now)
    if accepted.replayed or accepted.repeat:
        response.status_code = 200
    return await full_ticket(session, accepted.ticket, who, timeline=accepted.timeline)


@tickets.get("/{ticket_id}", response_model=TicketOut, responses=problem_responses(404))
async def get_ticket(ticket_id: str, session: Session, who: Reader) -> TicketOut:
    """operator, supervisor, service, unit: a ticket with its status, lead unit, repeats and
    timeline. A unit sees only tickets it leads."""
    ticket = await reads.get_ticket(session, ticket_id)
    if who.role is Role.UNIT and ticket.lead_unit_id != who.unit_id:
        raise Forbidden("This ticket is not assigned to your unit.")
    return await full_ticket(session, ticket, who)


@tickets.get("", response_model=list[TicketSummary])
async def list_tickets(
    session: Session,
    who: Reader,
    status: Annotated[domain.TicketStatus | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    category: Annotated[
        str | None, Query(max_length=200, description="a taxonomy node: it and all below it")
    ] = None,
    area: Annotated[
        str | None, Query(max_length=32, description="an area code: it and all inside it")
    ] = None,
    received_from: Annotated[datetime | None, Query(alias="from")] = None,
    received_to: Annotated[datetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in title/description")] = None,
    cluster: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TicketSummary]:
    """operator, supervisor, service, unit: search tickets, newest first; a unit sees only the
    tickets it leads."""
    if status is not None and status not in domain.STATUS_TEXT:
        raise InvalidInput(f"status: unknown status '{status}'.", field="status")
    if channel is not None and channel not in channels.NATIVE:
        raise InvalidInput(f"channel: unknown channel '{channel}'.", field="channel")
    for name, value in (("from", received_from), ("to", received_to)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name}: give a time with its offset (+08:00).", field=name)
    where = reads.TicketFilter(
        status=status,
        channel=channel,
        category=category,
        area_code=area,
        received_from=received_from,
        received_to=received_to,
        text=q,
        cluster_id=cluster,
        lead_unit_id=who.unit_id if who.role is Role.UNIT else None,
    )
    found = await reads.list_tickets(session, where, limit=limit, offset=offset)
    return [_summary(t, who) for t in found]


@tickets.post("/by-caller", response_model=list[TicketSummary], responses=problem_responses(413))
async def caller_history(
    phone: Annotated[str, Body(embed=True, min_length=1, max_length=32)],
    session: Session,
    who: Operator,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TicketSummary]:
    """operator: a caller's tickets (来电历史), newest first, found through the blind index of
    the phone (stored only encrypted). The phone goes in the body, never in a URL that access
    logs keep."""
    index = protection.blind_index(domain.normalize_phone(phone, field="phone"))
    where = reads.TicketFilter(citizen_index=index)
    found = await reads.list_tickets(session, where, limit=limit, offset=offset)
    return [_summary(t, who) for t in found]


@tickets.post(
    "/{ticket_id}/info", response_model=TicketOut, responses=problem_responses(404, 409, 413)
)
async def add_info(
    ticket_id: str, info: OperatorInfoIn, session: Session, now: Now, who: Operator
) -> TicketOut:
    """operator: add information the citizen gave by phone to an open ticket."""
    async with session.begin():
        ticket = await reads.get_ticket(session, ticket_id)
        await additions.add_info(
            session,
            ticket,
            source="operator",
            text=info.text,
            attachments=info.attachments,
            now=now,
        )
    return await full_ticket(session, ticket, who)


@channel_reports.post(
    "/channels/{channel}/reports",
    status_code=201,
    response_model=ReportAccepted,
    responses=problem_responses(409, 413),
)
async def receive_channel_report(
    channel: Channel,
    session: Session,
    now: Now,
    who: Reporter,
    response: Response,
    native: Annotated[Any, Body(description="the channel's own payload, as its system sends it")],
    idempotency_key: IdempotencyKey = None,
) -> ReportAccepted:
    """gateway, operator: a report in its channel's native shape (phone, web, app, wechat, weibo,
    message_board, mayor_mailbox, sms, opinion, grid, open311). Missing kind or category are
    suggested from the text. 201: a new ticket; 200: a repeat linked to an open ticket, or a
    retry (same Idempotency-Key or channel message id) answered as the first time."""
    async with session.begin():
        codes = await taxonomy.paths_by_code(session)
        tree = await taxonomy.taxonomy(session)
    normalised = channels.normalise(channel, native, categories_by_code=codes)
    report, context = channels.unify(normalised, tree)
    submission = admission.Submission(
        report,
        sender=who.subject,
        channel=context,
        idempotency_key=idempotency_key,
        body_hash=idempotency.request_hash({"channel": channel, "native": native}),
    )
    accepted = await admission.accept(session, submission, now=now)
    if accepted.replayed or accepted.repeat:
        response.status_code = 200
    return ReportAccepted(
        outcome="repeat" if accepted.repeat else "ticket",
        ticket_id=accepted.ticket.id,
        repeat_id=accepted.repeat.id if accepted.repeat else None,
        replayed=accepted.replayed,
        ticket=await full_ticket(session, accepted.ticket, who, timeline=accepted.timeline),
    )


@channel_reports.post("/classify", response_model=ClassifyOut, responses=problem_responses(413))
async def classify_text(body: ClassifyIn, session: Session, who: Reporter) -> ClassifyOut:
    """gateway, operator: suggest category, urgency and kind from the text, with the reasons,
    and the lead units the centre dispatched such reports to; the operator accepts or
    overrides them in the report."""
    suggestion = await taxonomy.suggest(
        session, body.title, body.description, category=body.category, address=body.address
    )
    unit_names = suggestion.lead_unit.names
    return ClassifyOut(
        category=suggestion.category,
        urgency=suggestion.urgency,  # type: ignore[arg-type]
        kind=suggestion.kind,  # type: ignore[arg-type]
        reasons=suggestion.reasons,
        alternatives=[CategoryScore(category=c, score=s) for c, s in suggestion.alternatives],
        source=suggestion.source,  # type: ignore[arg-type]
        model_version=suggestion.model_version,
        top=[
            CategoryCandidate(
                category=c.category, probability=c.probability, reasons=list(c.reasons)
            )
            for c in suggestion.top
        ],
        urgency_suggestion=_learned(suggestion.urgency_learned),
        kind_suggestion=_learned(suggestion.kind_learned),
        lead_unit=LeadUnitSuggestion(
            model_version=suggestion.lead_unit.model_version,
            top=[
                UnitCandidate(
                    unit_id=c.category,
                    unit_name=unit_names.get(c.category),
                    probability=c.probability,
                    reasons=list(c.reasons),
                )
                for c in suggestion.lead_unit.top
            ],
        ),
    )


def _learned(learned: classify.Learned) -> LearnedSuggestion:
    return LearnedSuggestion(
        source="model" if learned.source == "model" else "keywords",
        model_version=learned.model_version,
        top=[
            LabelCandidate(value=c.category, probability=c.probability, reasons=list(c.reasons))
            for c in learned.top
        ],
    )


router = APIRouter()
router.include_router(suggestion_models.router)
router.include_router(same_matter.router)
router.include_router(tickets)
router.include_router(channel_reports)
router.include_router(miniprogram.router)
router.include_router(open311.router)
