"""Hand-built event streams for analytics' tests: the same envelopes the producers emit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from routing.domain import unit_class_of
from shared.events import Envelope, Payload, intake, new_event, routing, sla
from shared.events import callback as cb

CHINA = ZoneInfo("Asia/Shanghai")
CATEGORY = "城市管理/市容环境/占道经营"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


def _e(payload: Payload, ticket: str, when: datetime, producer: str) -> Envelope:
    return new_event(payload, ticket_id=ticket, producer=producer, occurred_at=when)


def received(
    ticket: str,
    when: datetime,
    *,
    kind: Any = "complaint",
    category: str = CATEGORY,
    area: str = "BJ010101",
    channel: str = "phone",
    citizen: str | None = None,
    anonymous: bool = False,
    answered: bool = False,
) -> list[Envelope]:
    out = [
        _e(
            intake.TicketReceived(
                channel=channel,
                kind=kind,
                category=category,
                urgency="ordinary",
                title="测试诉求",
                description="测试诉求内容",
                area_code=area,
                address=None,
                citizen_ref=citizen or f"c-{ticket}",
                anonymous=anonymous,
                received_at=when,
                answered=answered,
            ),
            ticket,
            when,
            "intake",
        )
    ]
    if answered:
        out.append(
            _e(intake.TicketAnswered(answer="已解答", answered_by="op"), ticket, when, "intake")
        )
    return out


# --- reference data: routing's directory and sla's calendar, as their events ------------------

DEMO_CITY = Path(__file__).resolve().parents[2] / "services" / "demo_city.json"
DIRECTORY_AT = datetime(2026, 1, 1, 0, 0, tzinfo=CHINA)


def area_changed(
    code: str,
    name: str,
    level: Any,
    parent: str | None,
    *,
    change: Any = "created",
    when: datetime = DIRECTORY_AT,
    version: int = 1,
) -> Envelope:
    return _e(
        routing.AreaChanged(
            change=change,
            code=code,
            area_name=name,
            level=level,
            parent=parent,
            directory_version=version,
        ),
        routing.DIRECTORY_KEY,
        when,
        "routing",
    )


def unit_changed(
    unit: str,
    name: str,
    kind: Any,
    area: str,
    *,
    unit_class: Any = None,
    change: Any = "created",
    when: datetime = DIRECTORY_AT,
    version: int = 1,
) -> Envelope:
    return _e(
        routing.UnitChanged(
            change=change,
            unit_id=unit,
            unit_name=name,
            kind=kind,
            unit_class=unit_class or unit_class_of(kind),
            area_code=area,
            directory_version=version,
        ),
        routing.DIRECTORY_KEY,
        when,
        "routing",
    )


def demo_directory() -> list[Envelope]:
    """The demo city's areas and units as routing announces them (tests may read the demo
    file; analytics itself learns the directory only from these events)."""
    city = json.loads(DEMO_CITY.read_text("utf-8"))
    return [
        *(area_changed(a["code"], a["name"], a["level"], a.get("parent")) for a in city["areas"]),
        *(unit_changed(u["id"], u["name"], u["kind"], u["area"]) for u in city["units"]),
    ]


def calendar_changed(
    when: datetime,
    *,
    overrides: dict[date, bool] | None = None,
    schedules: dict[int, dict[date, bool]] | None = None,
) -> Envelope:
    return _e(
        sla.CalendarChanged(
            overrides=overrides or {},
            schedules=schedules or {},
            working_hours=[(time(9, 0), time(12, 0)), (time(13, 30), time(17, 30))],
        ),
        sla.CALENDAR_KEY,
        when,
        "sla",
    )


# --- ticket events -----------------------------------------------------------------------


def dispatched(
    ticket: str,
    assignment: str,
    unit: str,
    when: datetime,
    *,
    role: Any = "lead",
    count: int = 1,
    round_: int = 1,
    sign_by: datetime | None = None,
    respond_by: datetime | None = None,
    complete_by: datetime | None = None,
    unit_name: str | None = None,
    unit_class: Any = None,
) -> list[Envelope]:
    out = [
        _e(
            routing.TicketDispatched(
                assignment_id=assignment,
                unit_id=unit,
                unit_name=unit_name or unit,
                role=role,
                kind="complaint",
                urgency="ordinary",
                rule_id=None,
                catalogue_version=1,
                dispatch_count=count,
                round=round_,
                unit_class=unit_class,
            ),
            ticket,
            when,
            "routing",
        )
    ]
    if sign_by and respond_by and complete_by:
        out.append(
            _e(
                sla.ClockStarted(
                    clock_id=f"k-{assignment}",
                    assignment_id=assignment,
                    unit_id=unit,
                    policy="ordinary",
                    sign_by=sign_by,
                    respond_by=respond_by,
                    complete_by=complete_by,
                ),
                ticket,
                when,
                "sla",
            )
        )
    return out


def signed(ticket: str, assignment: str, unit: str, when: datetime) -> Envelope:
    return _e(
        routing.AssignmentSigned(assignment_id=assignment, unit_id=unit, role="lead"),
        ticket,
        when,
        "routing",
    )


def contacted(ticket: str, assignment: str, unit: str, when: datetime) -> Envelope:
    return _e(
        routing.AssignmentContacted(assignment_id=assignment, unit_id=unit, role="lead"),
        ticket,
        when,
        "routing",
    )


def replied(
    ticket: str, assignment: str, unit: str, when: datetime, *, round_: int = 1
) -> list[Envelope]:
    return [
        _e(
            routing.AssignmentReplied(
                assignment_id=assignment,
                unit_id=unit,
                role="lead",
                outcome="solved",
                explanation="已处理",
            ),
            ticket,
            when,
            "routing",
        ),
        _e(
            routing.TicketReplied(
                lead_assignment_id=assignment,
                lead_unit_id=unit,
                outcome="solved",
                explanation="已处理",
                round=round_,
            ),
            ticket,
            when,
            "routing",
        ),
    ]


def returned(ticket: str, assignment: str, unit: str, when: datetime) -> Envelope:
    return _e(
        routing.AssignmentReturned(
            assignment_id=assignment,
            unit_id=unit,
            reason_code="not_ours",
            explanation="非本单位职责",
        ),
        ticket,
        when,
        "routing",
    )


def called_back(
    ticket: str,
    unit: str | None,
    when: datetime,
    solved: Any,
    satisfaction: Any,
    *,
    round_: int = 1,
    close: bool = True,
) -> list[Envelope]:
    out = [
        _e(
            cb.CallbackCompleted(
                callback_id=f"cb-{ticket}-{round_}",
                round=round_,
                unit_id=unit,
                contacted_by_unit=True,
                solved=solved,
                satisfaction=satisfaction,
            ),
            ticket,
            when,
            "callback",
        )
    ]
    if close:
        out.append(closed(ticket, when, "callback completed"))
    return out


def unreachable(ticket: str, unit: str, when: datetime) -> list[Envelope]:
    return [
        _e(
            cb.CallbackUnreachable(callback_id=f"cb-{ticket}", round=1, unit_id=unit, attempts=3),
            ticket,
            when,
            "callback",
        ),
        closed(ticket, when, "citizen unreachable"),
    ]


def not_callable(ticket: str, unit: str, when: datetime, reason: Any) -> list[Envelope]:
    return [
        _e(
            cb.CallbackExcluded(callback_id=f"cb-{ticket}", round=1, unit_id=unit, reason=reason),
            ticket,
            when,
            "callback",
        ),
        closed(ticket, when, f"not callable: {reason}"),
    ]


def reopened(ticket: str, unit: str, when: datetime, round_: int) -> Envelope:
    return _e(
        cb.TicketReopened(
            callback_id=f"cb-{ticket}", round=round_, lead_unit_id=unit, reason="未解决"
        ),
        ticket,
        when,
        "callback",
    )


def closed(ticket: str, when: datetime, reason: str) -> Envelope:
    return _e(cb.TicketClosed(reason=reason), ticket, when, "callback")


def handled_ticket(
    ticket: str,
    unit: str,
    day: datetime,
    *,
    solved: Any = "solved",
    satisfaction: Any = "satisfied",
    in_time: bool = True,
    category: str = CATEGORY,
    area: str = "BJ010101",
    citizen: str | None = None,
) -> list[Envelope]:
    """A whole ordinary ticket on one working day: received 09:00, dispatched 09:05, signed and
    contacted (in time or a week late), replied 15:00, called back 17:00."""
    h = day.replace(hour=9, minute=0)
    sign_at = h.replace(hour=10) if in_time else h + timedelta(days=7)
    return [
        *received(ticket, h, category=category, area=area, citizen=citizen),
        *dispatched(
            ticket,
            f"{ticket}-a",
            unit,
            h.replace(minute=5),
            sign_by=h.replace(hour=23),
            respond_by=h.replace(hour=23),
            complete_by=h.replace(hour=23, minute=30),
        ),
        signed(ticket, f"{ticket}-a", unit, sign_at),
        contacted(ticket, f"{ticket}-a", unit, sign_at),
        *replied(ticket, f"{ticket}-a", unit, h.replace(hour=15)),
        *called_back(ticket, unit, h.replace(hour=17), solved, satisfaction),
    ]


async def deliver(app: FastAPI, events: Sequence[Envelope]) -> None:
    """Through analytics' real consumer path: inbox claim and handler in one transaction."""
    runtime = app.state.runtimes["analytics"]
    for e in events:
        await runtime.deliver(e)
