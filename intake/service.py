"""intake's use cases: load → decide with domain.py → write → add events to the outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import channels, classify, clusters, domain, matters, similarity
from intake.config import settings
from intake.directory import Directory
from intake.directory import current as current_directory
from intake.models import (
    AddedInfo,
    Category,
    IdempotencyRecord,
    Repeat,
    Ticket,
    TimelineEntry,
    outbox,
)
from intake.schemas import AttachmentIn, TicketIn
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.intake import (
    InfoAdded,
    RepeatLinked,
    TicketAnswered,
    TicketReceived,
)
from shared.settings import platform_settings

CHANNEL_TEXT = {
    "phone": "12345热线",
    "web": "网站",
    "app": "政务App",
    "wechat": "微信小程序",
    "weibo": "微博等社交媒体",
    "message_board": "领导留言板",
    "mayor_mailbox": "市长信箱",
    "sms": "短信",
    "opinion": "政务舆情",
    "grid": "网格员上报",
    "open311": "Open311",
}


@dataclass
class Accepted:
    """What a report became: a new ticket, or a repeat linked to an open one."""

    ticket: Ticket
    repeat: Repeat | None = None
    replayed: bool = False
    # A new ticket's timeline as written, so the answer needs no second read.
    timeline: list[TimelineEntry] | None = None


@dataclass
class ChannelContext:
    """What the channel adapter knows beyond the unified report."""

    refs: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    identity: str | None = None
    area_hint: str | None = None
    area_text: str | None = None
    category_source: str = "given"
    reasons: list[str] = field(default_factory=list)


def request_hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def attachment_rules() -> domain.AttachmentRules:
    config = settings()
    return domain.AttachmentRules(
        types=frozenset(config.attachment_types),
        max_bytes=config.attachment_max_bytes,
        max_count=config.attachments_max,
    )


async def _replay(
    session: AsyncSession, keys: list[tuple[str, bool]], body_hash: str
) -> Accepted | None:
    """A retry gets what the first request got. A reused Idempotency-Key with another body is
    refused; a channel message id seen before is the same message, whatever the gateway re-sent."""
    for key, strict in keys:
        record = await session.get(IdempotencyRecord, key)
        if record is None:
            continue
        if strict and record.request_hash != body_hash:
            raise InvalidInput(
                "Idempotency-Key: this key was used for a different request; use a new key "
                "for a new report.",
                field="Idempotency-Key",
            )
        ticket = await get_ticket(session, record.ticket_id)
        repeat = await session.get(Repeat, record.repeat_id) if record.repeat_id else None
        return Accepted(ticket, repeat, replayed=True)
    return None


def _area_for(report: TicketIn, context: ChannelContext, directory: Directory) -> str | None:
    """Stated area, else the channel's (a grid id), else coordinates inside a configured
    boundary, else the gazetteer's names in the address (or the text)."""
    if report.area_code:
        return report.area_code
    if context.area_hint and any(a.code == context.area_hint for a in directory.areas):
        return context.area_hint
    if report.longitude is not None and report.latitude is not None:
        found = domain.area_at(report.longitude, report.latitude, directory.boundaries)
        if found:
            return found
    return domain.resolve_area(report.address, directory.areas) or domain.resolve_area(
        context.area_text, directory.areas
    )


async def receive_ticket(
    session: AsyncSession,
    report: TicketIn,
    *,
    now: datetime,
    citizen_ref_secret: str,
    operator: str | None = None,
    context: ChannelContext | None = None,
    idempotency_key: str | None = None,
    principal: str = "",
    body_hash: str = "",
    link_repeats: bool = True,
) -> Accepted:
    """Accept a report (受理): validate it, give a retry its first answer, link a repeat of an
    open ticket to it (`ticket.repeat_linked`), or make a new ticket (`ticket.received`; with an
    operator's answer closed on the spot, `ticket.answered`); flag a cluster it completes."""
    context = context or ChannelContext()
    config = settings()
    keys = []
    if idempotency_key:
        keys.append((f"key:{principal}:{idempotency_key}", True))
    if context.message_id:
        keys.append((f"msg:{report.channel}:{context.message_id}", False))
    replay = await _replay(session, keys, body_hash)
    if replay:
        return replay

    directory = await current_directory(session)
    domain.check_on_the_spot_answer(report.kind, report.answer)
    domain.check_category(report.category, directory.categories)
    domain.check_coordinates(report.longitude, report.latitude, "longitude/latitude")
    attachments = [a.model_dump(exclude_none=True) for a in report.attachments]
    domain.check_attachments(attachments, attachment_rules())
    phone = None
    if report.citizen.phone and not report.citizen.anonymous:
        phone = domain.normalize_phone(report.citizen.phone)
    area_code = _area_for(report, context, directory)
    ref = domain.citizen_ref(phone or context.identity, citizen_ref_secret)
    terms = similarity.terms(f"{report.title}\n{report.description}", directory.places)
    matter = domain.Matter(
        ticket_id="",
        category=report.category,
        area_code=area_code,
        terms=tuple(terms),
        longitude=report.longitude,
        latitude=report.latitude,
        citizen_ref=ref,
    )
    if link_repeats and report.answer is None and ref is not None:
        mine = await matters.own_open_matters(
            session,
            citizen_ref=ref,
            category=report.category,
            area_code=area_code,
            since=now - timedelta(days=config.repeat_window_days),
        )
        target = domain.repeat_target(
            matter,
            mine,
            threshold=config.same_matter_threshold,
            metres=config.same_place_metres,
        )
        if target:
            repeat = await _link_repeat(
                session, target[0], target[1], report, context, ref=ref, now=now
            )
            ticket = await get_ticket(session, target[0])
            await _remember(session, keys, body_hash, ticket.id, repeat.id, now)
            return Accepted(ticket, repeat)

    ticket_id = domain.new_ticket_id(now, secrets.token_hex(5))
    # Clusters first, so the new ticket is written once, already in its cluster.
    joined = None
    if report.answer is None:
        joined = await clusters.join(
            session, replace(matter, ticket_id=ticket_id, received_at=now), now=now
        )
    ticket = Ticket(
        id=ticket_id,
        channel=report.channel,
        kind=report.kind,
        category=report.category,
        urgency=report.urgency,
        title=report.title,
        description=report.description,
        address=report.address,
        area_code=area_code,
        citizen_name=None if report.citizen.anonymous else report.citizen.name,
        citizen_phone=phone,
        citizen_ref=ref,
        anonymous=report.citizen.anonymous or phone is None,
        status=domain.TicketStatus.ANSWERED if report.answer else domain.TicketStatus.RECEIVED,
        received_at=now,
        updated_at=now,
        longitude=report.longitude,
        latitude=report.latitude,
        attachments=attachments,
        channel_refs={k: v for k, v in context.refs.items() if v is not None} or None,
        category_source=context.category_source,
        classification_reasons=context.reasons or None,
        terms=" ".join(terms),
        repeat_count=0,
        cluster_id=joined.cluster_id if joined else None,
    )
    session.add(ticket)
    timeline = [
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.received",
            text=f"已受理（{CHANNEL_TEXT.get(report.channel, report.channel)}渠道）",
        )
    ]
    await outbox.emit(
        session,
        TicketReceived(
            channel=ticket.channel,
            kind=report.kind,
            category=ticket.category,
            urgency=report.urgency,
            title=ticket.title,
            description=ticket.description,
            area_code=ticket.area_code,
            address=ticket.address,
            citizen_ref=ticket.citizen_ref,
            anonymous=ticket.anonymous,
            received_at=now,
            answered=report.answer is not None,
        ),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    if report.answer is not None:
        timeline.append(
            TimelineEntry(
                ticket_id=ticket.id,
                at=now,
                event_type="ticket.answered",
                text=f"话务员当场解答：{report.answer}",
            )
        )
        await outbox.emit(
            session,
            TicketAnswered(answer=report.answer, answered_by=operator or "operator"),
            ticket_id=ticket.id,
            occurred_at=now,
        )
    if joined:
        timeline.append(await clusters.flag(session, joined, ticket_id=ticket.id, now=now))
    session.add_all(timeline)
    await _remember(session, keys, body_hash, ticket.id, None, now)
    return Accepted(ticket, timeline=timeline)


async def accept(
    session: AsyncSession,
    report: TicketIn,
    *,
    now: datetime,
    who: Principal,
    context: ChannelContext | None = None,
    idempotency_key: str | None = None,
    body: Any = None,
    link_repeats: bool = True,
) -> Accepted:
    """Accept a report in its own transaction; two identical retries racing each other: the loser finds the winner's."""
    for attempt in (1, 2):
        try:
            async with session.begin():
                return await receive_ticket(
                    session,
                    report,
                    now=now,
                    citizen_ref_secret=platform_settings().citizen_ref_secret,
                    operator=who.subject,
                    context=context,
                    idempotency_key=idempotency_key,
                    principal=who.subject,
                    body_hash=request_hash(body),
                    link_repeats=link_repeats,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def unify(
    normalised: channels.Normalised, taxonomy: list[classify.CategoryNode]
) -> tuple[TicketIn, ChannelContext]:
    """Fill kind, category and urgency the channel did not give from the suggestion."""
    fields = dict(normalised.ticket)
    suggestion = classify.suggest(fields["title"], fields["description"], taxonomy)
    reasons: list[str] = []
    source = "given"
    if not fields.get("category"):
        if suggestion.category is None:
            raise InvalidInput(
                "category: the channel gave none and none could be suggested from the text; "
                "send the report with a category.",
                field="category",
            )
        fields["category"], source = suggestion.category, "suggested"
        reasons = suggestion.reasons
    if not fields.get("kind"):
        fields["kind"] = suggestion.kind
    if not fields.get("urgency"):
        fields["urgency"] = suggestion.urgency
    try:
        report = TicketIn.model_validate(fields)
    except ValidationError as exc:
        raise channels.invalid(exc) from None
    return report, ChannelContext(
        refs=normalised.refs,
        message_id=normalised.message_id,
        identity=normalised.identity,
        area_hint=normalised.area_hint,
        area_text=normalised.area_text,
        category_source=source,
        reasons=reasons,
    )


async def _remember(
    session: AsyncSession,
    keys: list[tuple[str, bool]],
    body_hash: str,
    ticket_id: str,
    repeat_id: str | None,
    now: datetime,
) -> None:
    for key, _ in keys:
        session.add(
            IdempotencyRecord(
                key=key,
                request_hash=body_hash,
                ticket_id=ticket_id,
                repeat_id=repeat_id,
                created_at=now,
            )
        )


async def _link_repeat(
    session: AsyncSession,
    ticket_id: str,
    score: float,
    report: TicketIn,
    context: ChannelContext,
    *,
    ref: str | None,
    now: datetime,
) -> Repeat:
    ticket = await get_ticket(session, ticket_id)
    ticket.repeat_count = (ticket.repeat_count or 0) + 1
    ticket.updated_at = now
    repeat = Repeat(
        id="R" + domain.new_ticket_id(now, secrets.token_hex(5)),
        ticket_id=ticket.id,
        channel=report.channel,
        channel_refs={k: v for k, v in context.refs.items() if v is not None} or None,
        title=report.title,
        description=report.description,
        similarity=score,
        received_at=now,
    )
    session.add(repeat)
    session.add(
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.repeat_linked",
            text=(
                f"诉求人再次反映（{CHANNEL_TEXT.get(report.channel, report.channel)}渠道），"
                f"已合并为重复诉求，累计{ticket.repeat_count}次"
            ),
        )
    )
    await outbox.emit(
        session,
        RepeatLinked(
            repeat_id=repeat.id,
            channel=report.channel,
            citizen_ref=ref,
            similarity=score,
            repeat_count=ticket.repeat_count,
            received_at=now,
        ),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    return repeat


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' does not exist.", field="ticket_id")
    return ticket


async def timeline(session: AsyncSession, ticket_id: str) -> Sequence[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.ticket_id == ticket_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return rows.all()


@dataclass(frozen=True)
class TicketFilter:
    """An operator's search: every given condition must hold."""

    status: str | None = None
    channel: str | None = None
    category: str | None = None  # the node or anything under it
    area_code: str | None = None  # the area or anything inside it (codes nest: BJ01 ⊃ BJ0101)
    received_from: datetime | None = None
    received_to: datetime | None = None
    text: str | None = None  # in the title or the description
    cluster_id: str | None = None
    lead_unit_id: str | None = None


async def list_tickets(
    session: AsyncSession,
    *,
    status: str | None = None,
    lead_unit_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    where: TicketFilter | None = None,
) -> Sequence[Ticket]:
    where = where or TicketFilter()
    query = (
        select(Ticket).order_by(Ticket.received_at.desc(), Ticket.id).limit(limit).offset(offset)
    )
    status = status or where.status
    lead_unit_id = lead_unit_id or where.lead_unit_id
    if status:
        query = query.where(Ticket.status == status)
    if lead_unit_id:
        query = query.where(Ticket.lead_unit_id == lead_unit_id)
    if where.channel:
        query = query.where(Ticket.channel == where.channel)
    if where.category:
        query = query.where(
            or_(Ticket.category == where.category, Ticket.category.startswith(where.category + "/"))
        )
    if where.area_code:
        query = query.where(Ticket.area_code.startswith(where.area_code))
    if where.received_from:
        query = query.where(Ticket.received_at >= where.received_from)
    if where.received_to:
        query = query.where(Ticket.received_at < where.received_to)
    if where.text:
        pattern = (
            "%" + where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                Ticket.title.like(pattern, escape="\\"),
                Ticket.description.like(pattern, escape="\\"),
            )
        )
    if where.cluster_id:
        query = query.where(Ticket.cluster_id == where.cluster_id)
    return (await session.scalars(query)).all()


async def repeats(session: AsyncSession, ticket_id: str) -> Sequence[Repeat]:
    rows = await session.scalars(
        select(Repeat).where(Repeat.ticket_id == ticket_id).order_by(Repeat.received_at, Repeat.id)
    )
    return rows.all()


# ---------------------------------------------------------------------------- taxonomy


async def load_taxonomy(session: AsyncSession, nodes: Iterable[str | Mapping[str, Any]]) -> int:
    """Load the category tree: paths ("城市管理/市容环境/占道经营") or objects with `path` and
    optional `code` (the Open311 service code), `keywords` and `description`. Missing parents
    are added. Returns how many nodes were loaded."""
    given: dict[str, Mapping[str, Any]] = {}
    for node in nodes:
        item: Mapping[str, Any] = {"path": node} if isinstance(node, str) else node
        path = "/".join(part.strip() for part in str(item["path"]).split("/") if part.strip())
        if not path:
            raise InvalidInput("taxonomy: an empty category path.", field="taxonomy")
        parts = path.split("/")
        for depth in range(1, len(parts)):
            given.setdefault("/".join(parts[:depth]), {"path": "/".join(parts[:depth])})
        given[path] = {**item, "path": path}
    for path, item in given.items():
        parts = path.split("/")
        await session.merge(
            Category(
                path=path,
                code=str(item.get("code") or service_code(path)),
                name=parts[-1],
                parent_path="/".join(parts[:-1]) or None,
                depth=len(parts),
                keywords="|".join(item.get("keywords", [])),
                description=str(item.get("description", "")),
            )
        )
    return len(given)


def service_code(path: str) -> str:
    """A short stable code for a category (Open311 `service_code`)."""
    return f"S{zlib.crc32(path.encode()):08X}"


async def categories(session: AsyncSession) -> Sequence[Category]:
    return (await session.scalars(select(Category).order_by(Category.path))).all()


async def taxonomy(session: AsyncSession) -> list[classify.CategoryNode]:
    return list((await current_directory(session)).taxonomy)


async def suggest(session: AsyncSession, title: str, description: str) -> classify.Suggestion:
    return classify.suggest(title, description, await taxonomy(session))


# ---------------------------------------------------------------------------- citizens


async def add_info(
    session: AsyncSession,
    ticket: Ticket,
    *,
    source: str,
    text: str,
    attachments: Sequence[AttachmentIn],
    now: datetime,
) -> AddedInfo:
    """The citizen (or an operator) adds information to an open ticket (补充诉求)."""
    if ticket.status not in domain.STATUS_OPEN:
        raise Conflict(
            f"Ticket '{ticket.id}' is {domain.STATUS_TEXT[ticket.status]}: information can be "
            "added only while it is open.",
            allowed_actions=[],
        )
    items = [a.model_dump(exclude_none=True) for a in attachments]
    domain.check_attachments(items, attachment_rules())
    info = AddedInfo(ticket_id=ticket.id, source=source, text=text, attachments=items, at=now)
    session.add(info)
    who = "诉求人" if source == "citizen" else "话务员"
    session.add(
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.info_added",
            text=f"{who}补充信息：{text}",
        )
    )
    ticket.updated_at = now
    await outbox.emit(
        session,
        InfoAdded(source=source, text=text, attachments=len(items)),  # type: ignore[arg-type]
        ticket_id=ticket.id,
        occurred_at=now,
    )
    return info


async def ticket_for_citizen(session: AsyncSession, ticket_id: str, phone: str) -> Ticket:
    """The ticket, if `phone` is the one it was reported with. A wrong phone and an unknown
    number get the same answer, so a guesser learns nothing."""
    not_found = NotFound("No ticket matches this number and phone.", field="ticket_id")
    try:
        given = domain.normalize_phone(phone, field="phone")
    except InvalidInput:
        raise not_found from None
    ticket = await session.get(Ticket, ticket_id)
    stored = ticket.citizen_phone if ticket else None
    if ticket is None or not stored or not hmac.compare_digest(stored, given):
        raise not_found
    return ticket
