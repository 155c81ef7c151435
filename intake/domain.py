"""intake's rules: pure functions, no database, no HTTP, no clock reads."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.clock import CHINA
from shared.errors import InvalidInput

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")

# Ticket statuses and how a citizen reads them.
# In the order a handling round moves through them; a re-open starts a new round.
STATUS_TEXT = {
    "received": "已受理",
    "reopened": "重新办理中",
    "dispatched": "已派单",
    "in_progress": "办理中",
    "answered": "已当场解答，待回访",
    "replied": "已办结，待回访",
    "closed": "已结案",
}

LEVEL_DEPTH = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}

OUTCOME_TEXT = {"solved": "已解决", "partly_solved": "部分解决", "unsolvable": "无法解决"}
SOLVED_TEXT = {"solved": "已解决", "partly_solved": "部分解决", "unsolved": "未解决"}
SATISFACTION_TEXT = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
}


def normalize_phone(raw: str, field: str = "citizen.phone") -> str:
    """Mainland mobile (11 digits) or landline with area code; spaces, dashes and +86 dropped."""
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    raise InvalidInput(
        f"{field}: '{raw}' is not a phone number (mobile 1xxxxxxxxxx or landline 0xx-xxxxxxxx).",
        field=field,
    )


def mask_phone(phone: str | None) -> str | None:
    """138****5678: what everyone but an authorised operator sees."""
    if not phone:
        return None
    if len(phone) <= 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def citizen_ref(phone: str | None, secret: str) -> str | None:
    """A pseudonymous citizen reference for events: a keyed hash, not reversible by guessing."""
    if not phone:
        return None
    return "c_" + hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:24]


def new_ticket_id(received_at: datetime, random_hex: str) -> str:
    """Ticket numbers read as the day they were received (China time) plus a random part."""
    return f"{received_at.astimezone(CHINA):%Y%m%d}{random_hex.upper()}"


@dataclass(frozen=True)
class AreaName:
    code: str
    level: str
    names: tuple[str, ...]


def resolve_area(address: str | None, gazetteer: Iterable[AreaName]) -> str | None:
    """The most specific area whose name or alias occurs in the address text.

    Deeper levels win (a community beats its street); at the same level, the longer name wins
    (so "长安街道" beats "长安").
    """
    if not address:
        return None
    best: tuple[int, int, str] | None = None
    for area in gazetteer:
        for name in area.names:
            if name and name in address:
                key = (LEVEL_DEPTH.get(area.level, 0), len(name), area.code)
                if best is None or key > best:
                    best = key
    return best[2] if best else None


def progress(event_type: str, payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """The ticket status an event moves to (None: unchanged) and its line in the timeline."""
    role = "主办" if payload.get("role") == "lead" else "协办"
    match event_type:
        case "ticket.dispatched":
            status = "dispatched" if payload.get("role") == "lead" else None
            return status, f"已派发至{payload['unit_name']}（{role}）"
        case "assignment.signed":
            return "in_progress", f"承办单位已签收（{role}）"
        case "assignment.contacted":
            return None, f"承办单位已联系诉求人（{role}）"
        case "ticket.replied":
            return (
                "replied",
                f"承办单位已办结反馈：{OUTCOME_TEXT[payload['outcome']]}。{payload['explanation']}",
            )
        case "callback.completed":
            solved = SOLVED_TEXT[payload["solved"]]
            satisfaction = SATISFACTION_TEXT[payload["satisfaction"]]
            return None, f"回访完成：问题{solved}，评价{satisfaction}"
        case "ticket.closed":
            return "closed", "工单已结案"
        case "sla.breached":
            return None, "办理超期，已提醒承办单位"
        case "ticket.reopened":
            return "reopened", f"回访未解决，第{payload['round']}轮重新办理：{payload['reason']}"
    return None, event_type


def moves_forward(current: str, new: str) -> bool:
    """Status only moves forward within a round; a re-open starts the next round."""
    order = list(STATUS_TEXT)
    return new == "reopened" or order.index(new) > order.index(current)


def check_on_the_spot_answer(kind: str, answer: str | None) -> None:
    """在线解答: only a consultation is answered and closed at intake."""
    if answer is not None and kind != "consultation":
        raise InvalidInput(
            f"answer: only a consultation can be answered on the spot, not a '{kind}'.",
            field="answer",
        )
