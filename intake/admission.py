"""Receiving a report (受理): the admission path every channel ends in.

A report arrives as a `Submission`. A retry gets its first answer back; otherwise
`domain.admit` decides (or refuses) it, a repeat of the citizen's open ticket is linked to that
ticket (`ticket.repeat_linked`), and anything else becomes a new ticket (`ticket.received`; with
an operator's answer closed on the spot, `ticket.answered` too), already in the cluster it
forms or joins (`ticket.cluster_flagged`). One transaction per report, written with the events
in the outbox.

This is the hot path measured by `make bench` (docs/performance.md) and counted by
tests/intake/test_storm.py: a step added here costs every report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import clusters, domain, idempotency, matters, protection, reads, similarity
from intake.config import settings
from intake.directory import current as current_directory
from intake.models import Repeat, Ticket, TimelineEntry, outbox
from intake.schemas import TicketIn
from shared import metrics
from shared.db import column_values
from shared.errors import InvalidInput
from shared.events.intake import RepeatLinked, TicketAnswered, TicketReceived
from shared.redaction import redact, redact_optional
from shared.settings import platform_settings

# How the timeline names each channel.
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


@dataclass(frozen=True)
class Submission:
    """A report as it reaches admission, with what came with it."""

    report: TicketIn  # the unified form
    sender: str  # the principal's subject: scopes its Idempotency-Key, signs an answer
    channel: domain.ChannelContext = field(default_factory=domain.ChannelContext)
    idempotency_key: str | None = None
    body_hash: str = ""  # idempotency.request_hash of the body as sent
    # The channel endpoints link repeats; the unified form only when configured to.
    link_repeats: bool = True


@dataclass
class Accepted:
    """What a report became: a new ticket, or a repeat linked to an open one."""

    ticket: Ticket
    repeat: Repeat | None = None
    replayed: bool = False
    # A new ticket's timeline as written, so the answer needs no second read.
    timeline: list[TimelineEntry] | None = None


async def accept(session: AsyncSession, submission: Submission, *, now: datetime) -> Accepted:
    """Receive a report in its own transaction. Two identical retries racing each other: the
    loser's idempotency record collides, and its second attempt finds the winner's."""
    for attempt in (1, 2):
        try:
            async with session.begin():
                accepted = await receive_ticket(session, submission, now=now)
            if accepted.repeat is None and not accepted.replayed:  # counted once committed
                metrics.TICKETS_ACCEPTED.labels(accepted.ticket.channel).inc()
                # A category the channel left to the classification help, or one given.
                source = accepted.ticket.category_source or "given"
                metrics.SUGGESTIONS.labels("prefilled" if source == "suggested" else "given").inc()
            return accepted
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def receive_ticket(
    session: AsyncSession, submission: Submission, *, now: datetime
) -> Accepted:
    """Receive a report (受理): a retry gets its first answer; otherwise the report is decided
    (`domain.admit`), then linked as a repeat or filed as a new ticket, and remembered for its
    retries."""
    report, channel = submission.report, submission.channel
    keys = idempotency.retry_keys(
        sender=submission.sender,
        idempotency_key=submission.idempotency_key,
        channel=report.channel,
        message_id=channel.message_id,
    )
    first = await idempotency.first_answer(session, keys, submission.body_hash)
    if first is not None:
        return await _replayed(session, first.ticket_id, first.repeat_id)
    attachments = [a.model_dump(exclude_none=True) for a in report.attachments]
    admission = domain.admit(
        report, attachments, channel, await current_directory(session), _rules(submission)
    )
    confirmed = await _confirmed(session, report.same_matter_of)
    accepted = None
    if confirmed is not None:
        if domain.confirmed_as_repeat(
            admission.matter, matters.matter_of(confirmed), answered=admission.answered
        ):
            score = similarity.similarity_of_terms(
                admission.matter.terms, tuple((confirmed.terms or "").split())
            )
            accepted = await _link_repeat(session, submission, admission, confirmed, score, now)
    elif admission.may_repeat:
        accepted = await _as_repeat(session, submission, admission, now)
    if accepted is None:
        accepted = await _as_new_ticket(
            session, submission, admission, attachments, now, same_matter_of=confirmed
        )
    idempotency.remember(
        session,
        keys,
        submission.body_hash,
        ticket_id=accepted.ticket.id,
        repeat_id=accepted.repeat.id if accepted.repeat else None,
        now=now,
    )
    return accepted


_INSERT_TICKET = insert(cast(Table, Ticket.__table__))
_INSERT_LINE = insert(cast(Table, TimelineEntry.__table__))


def _rules(submission: Submission) -> domain.AdmissionRules:
    return domain.AdmissionRules(
        attachments=settings().attachment_rules(),
        citizen_ref_secret=platform_settings().citizen_ref_secret,
        blind_index=protection.blind_index,
        link_repeats=submission.link_repeats,
    )


async def _replayed(session: AsyncSession, ticket_id: str, repeat_id: str | None) -> Accepted:
    """A retry's answer: what its first request became."""
    ticket = await reads.get_ticket(session, ticket_id)
    repeat = await session.get(Repeat, repeat_id) if repeat_id else None
    return Accepted(ticket, repeat, replayed=True)


async def _as_repeat(
    session: AsyncSession, submission: Submission, admission: domain.Admission, now: datetime
) -> Accepted | None:
    """重复诉求: link the report to the citizen's open ticket of the same matter, if there is one
    within the repeat window; that ticket is not dispatched again."""
    config = settings()
    matter = admission.matter
    # admit allows repeats only for a known citizen
    assert matter.citizen_ref is not None and admission.citizen_index is not None
    mine = await matters.own_open_matters(
        session,
        citizen_index=admission.citizen_index,
        category=matter.category,
        area_code=matter.area_code,
        since=now - timedelta(days=config.repeat_window_days),
    )
    target = domain.repeat_target(
        matter, mine, threshold=config.same_matter_threshold, metres=config.same_place_metres
    )
    if target is None:
        return None
    ticket_id, score = target
    ticket = await reads.get_ticket(session, ticket_id)
    return await _link_repeat(session, submission, admission, ticket, score, now)


async def _link_repeat(
    session: AsyncSession,
    submission: Submission,
    admission: domain.Admission,
    ticket: Ticket,
    score: float,
    now: datetime,
) -> Accepted:
    """The report as a repeat of the citizen's open `ticket`: counted on it, not filed again."""
    report, matter = submission.report, admission.matter
    assert matter.citizen_ref is not None
    ticket.repeat_count = (ticket.repeat_count or 0) + 1
    ticket.updated_at = now
    repeat = Repeat(
        id="R" + domain.new_ticket_id(now, secrets.token_hex(5)),
        ticket_id=ticket.id,
        channel=report.channel,
        channel_refs=_refs(submission.channel),
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
            citizen_ref=matter.citizen_ref,
            similarity=score,
            repeat_count=ticket.repeat_count,
            received_at=now,
        ),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    return Accepted(ticket, repeat)


async def _as_new_ticket(
    session: AsyncSession,
    submission: Submission,
    admission: domain.Admission,
    attachments: list[dict[str, Any]],
    now: datetime,
    *,
    same_matter_of: Ticket | None = None,
) -> Accepted:
    """A new ticket, written once: the cluster it forms or joins is settled first, with the
    ticket an operator confirmed as the same matter (`same_matter_of`) among its members."""
    ticket_id = domain.new_ticket_id(now, secrets.token_hex(5))
    joined = None
    confirmed = same_matter_of.id if same_matter_of is not None else None
    if admission.may_cluster:
        matter = replace(admission.matter, ticket_id=ticket_id, received_at=now)
        joined = await clusters.join(session, matter, now=now, confirmed=confirmed)
    ticket = _ticket_row(ticket_id, submission, admission, attachments, now)
    ticket.cluster_id = joined.cluster_id if joined else None
    ticket.same_matter_of = confirmed
    timeline = await _announce(session, ticket, submission, now)
    elsewhere = []  # the confirmed ticket's own line
    if same_matter_of is not None:
        here, there = _same_matter_lines(ticket, same_matter_of, now)
        timeline.append(here)
        elsewhere.append(there)
    if joined:
        timeline.append(await clusters.flag(session, joined, ticket_id=ticket.id, now=now))
    # Written as rows, not through the session's unit of work: flushing the ticket and its
    # lines as objects cost about a tenth of accepting a report (docs/performance.md). The
    # objects stay as they are, unattached, for the answer.
    await session.execute(_INSERT_TICKET, column_values(ticket))
    await session.execute(_INSERT_LINE, [column_values(e) for e in [*timeline, *elsewhere]])
    return Accepted(ticket, timeline=timeline)


async def _confirmed(session: AsyncSession, ticket_id: str | None) -> Ticket | None:
    """The open ticket an operator confirmed the report is the same matter as, if any."""
    if ticket_id is None:
        return None
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise InvalidInput(
            f"same_matter_of: ticket '{ticket_id}' does not exist.", field="same_matter_of"
        )
    domain.check_confirmable(ticket.id, ticket.status)
    return ticket


def _same_matter_lines(
    ticket: Ticket, other: Ticket, now: datetime
) -> tuple[TimelineEntry, TimelineEntry]:
    """Both tickets say the operator found them one matter (not shown to citizens: each names
    another citizen's ticket): the new ticket's line, and the other's."""
    return (
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.same_matter_confirmed",
            text=f"话务员确认与工单{other.id}为同一诉求",
        ),
        TimelineEntry(
            ticket_id=other.id,
            at=now,
            event_type="ticket.same_matter_confirmed",
            text=f"另有市民反映同一诉求，话务员已确认（工单{ticket.id}）",
        ),
    )


def _ticket_row(
    ticket_id: str,
    submission: Submission,
    admission: domain.Admission,
    attachments: list[dict[str, Any]],
    now: datetime,
) -> Ticket:
    report, channel = submission.report, submission.channel
    shown = report.suggestion
    return Ticket(
        id=ticket_id,
        channel=report.channel,
        kind=report.kind,
        category=report.category,
        urgency=report.urgency,
        title=report.title,
        description=report.description,
        address=report.address,
        area_code=admission.matter.area_code,
        citizen_name=admission.citizen_name,
        citizen_phone=admission.phone,
        citizen_index=admission.citizen_index,
        citizen_ref=admission.matter.citizen_ref,
        anonymous=admission.anonymous,
        status=admission.status,
        received_at=now,
        updated_at=now,
        longitude=report.longitude,
        latitude=report.latitude,
        attachments=attachments,
        channel_refs=_refs(channel),
        category_source=channel.category_source,
        kind_source=channel.kind_source,
        urgency_source=channel.urgency_source,
        classification_reasons=channel.reasons or None,
        terms=" ".join(admission.matter.terms),
        repeat_count=0,
        suggested_top=list(shown.top) if shown else None,
        suggested_category=shown.top[0] if shown else None,
        suggestion_source=shown.source if shown else None,
        suggestion_model=shown.model_version if shown else None,
    )


async def _announce(
    session: AsyncSession, ticket: Ticket, submission: Submission, now: datetime
) -> list[TimelineEntry]:
    """`ticket.received`, and `ticket.answered` for an answer on the spot: into the outbox, and
    their timeline lines (returned, for the caller to add with the cluster's). What the events
    carry is redacted (脱敏): no phone, ID-card or bank-card number, nor the citizen's name,
    leaves intake in them."""
    report = submission.report
    name = [ticket.citizen_name]
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
            title=redact(ticket.title, name),
            description=redact(ticket.description, name),
            area_code=ticket.area_code,
            address=redact_optional(ticket.address, name),
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
            TicketAnswered(
                answer=redact(report.answer, name), answered_by=submission.sender or "operator"
            ),
            ticket_id=ticket.id,
            occurred_at=now,
        )
    return timeline


def _refs(channel: domain.ChannelContext) -> dict[str, Any] | None:
    """The channel's ids worth keeping (kept in intake, never in events)."""
    return {k: v for k, v in channel.refs.items() if v is not None} or None
