"""routing's rules: which unit leads, and what a unit may do next. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import Conflict, InvalidInput
from shared.events.routing import UnitClass, UnitKind

# The administrative hierarchy, top down: city › district › street/township › community › grid.
AREA_LEVELS = ("city", "district", "street", "community", "grid")
# Handling units (承办单位) by kind; a rule may name a kind as a role resolved in the ticket's area.
UNIT_KINDS = (
    "city_department",  # 市级部门
    "district_government",  # 区政府
    "district_department",  # 区级部门
    "street_office",  # 街道办事处 / 乡镇政府
    "community",  # 社区居委会 / 村委会
    "enterprise",  # utilities and public-service companies (水电气热等公共服务企业)
)
# A unit's class (单位类别) by its kind: departments of the city and of a district are ranked
# together, and against each other rather than against the governments they answer to (分类考核).
_CLASS_OF_KIND: Mapping[UnitKind, UnitClass] = {
    "city_department": "department",
    "district_department": "department",
    "district_government": "district",
    "street_office": "street",
    "community": "community",
    "enterprise": "enterprise",
}
ROLE_PREFIX = "role:"
DISPATCH_MODES = ("direct", "level", "dual")


class TicketStatus(StrEnum):
    """Where a ticket stands in routing (派单状态). The values are stored and shown by the API."""

    QUEUED = "queued"  # waiting in the dispatcher's queue (待人工派单)
    DISPATCHED = "dispatched"  # has a lead unit (已派单)


class AssignmentStatus(StrEnum):
    """Where a unit's assignment stands in its workflow (签收 → 首次联系 → 办结反馈). The values
    are stored and shown by the API."""

    DISPATCHED = "dispatched"  # 已派单, waiting for the unit to sign
    SIGNED = "signed"  # 已签收
    CONTACTED = "contacted"  # 已首次联系
    REPLIED = "replied"  # 已办结反馈
    RETURN_REQUESTED = "return_requested"  # 退单申请, waiting for the centre
    RETURNED = "returned"  # 已退单 (approved)
    WITHDRAWN = "withdrawn"  # 已撤回: re-dispatched or decided away (改派, 联合认定)
    FORWARDED = "forwarded"  # 已下派 (a level-by-level dispatch passed down)
    TIMED_OUT = "timed_out"  # an assistant that no longer held up the lead's reply (协办超时)


class ReturnStatus(StrEnum):
    """Where a return request (退单申请) stands. The values are stored and shown by the API."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # its assignment ended before the centre decided


def unit_class_of(kind: UnitKind) -> UnitClass:
    """The class of a unit (单位类别) from its kind: the one rule every service's deadlines and
    rankings use; it travels on `directory.unit_changed` and `ticket.dispatched`."""
    return _CLASS_OF_KIND[kind]


@dataclass(frozen=True)
class CatalogueRule:
    id: str
    category: str  # a taxonomy path, "城市管理/市容环境"; matches itself and everything below
    area_code: str | None  # None: anywhere in the city
    keywords: tuple[str, ...]
    lead_unit_id: str
    assist_unit_ids: tuple[str, ...]
    version: int
    mode: str | None = None  # None: the configured default
    row: int | None = None  # where it came from in an imported file


@dataclass(frozen=True)
class Decision:
    lead_unit_id: str
    assist_unit_ids: tuple[str, ...]
    rule: CatalogueRule | None
    reason: str


def category_matches(rule_category: str, category: str) -> bool:
    return category == rule_category or category.startswith(rule_category + "/")


def area_chain(area_code: str | None, parents: Mapping[str, str | None]) -> list[str]:
    """The area and its ancestors, most specific first: community, street, district, city."""
    chain: list[str] = []
    while area_code and area_code not in chain:
        chain.append(area_code)
        area_code = parents.get(area_code)
    return chain


def lead_unit_for(
    *,
    category: str,
    text: str,
    chain: Sequence[str],
    rules: Iterable[CatalogueRule],
) -> Decision | None:
    """The most specific catalogue rule that applies (主办单位).

    Specificity, compared in this order: the deeper category, then the narrower area (a rule
    for the ticket's street beats one for its district, which beats a city-wide rule), then
    more matching keywords. Rules with keywords apply only when every keyword is in the text.
    Two rules can only tie when their keyword sets differ (identical scopes are refused at
    import, see `catalogue.conflicts`); the lower rule id then wins, so the choice is stable.
    """
    best: tuple[tuple[int, int, int], CatalogueRule] | None = None
    for rule in rules:
        if not category_matches(rule.category, category):
            continue
        if rule.area_code is not None and rule.area_code not in chain:
            continue
        if not all(k in text for k in rule.keywords):
            continue
        area_rank = len(chain) - chain.index(rule.area_code) if rule.area_code else 0
        key = (rule.category.count("/") + 1, area_rank, len(rule.keywords))
        if best is None or key > best[0] or (key == best[0] and rule.id < best[1].id):
            best = (key, rule)
    if best is None:
        return None
    rule = best[1]
    where = f"area {rule.area_code}" if rule.area_code else "the whole city"
    keywords = f", keywords {'、'.join(rule.keywords)}" if rule.keywords else ""
    return Decision(
        lead_unit_id=rule.lead_unit_id,
        assist_unit_ids=rule.assist_unit_ids,
        rule=rule,
        reason=f"catalogue rule {rule.id} (v{rule.version}): category {rule.category} in {where}{keywords}",
    )


def first_receiving_unit(
    chain: Sequence[str], street_office_by_area: Mapping[str, str]
) -> Decision | None:
    """首接负责: with no rule, the street office of the ticket's area leads, settle later."""
    for code in chain:
        if code in street_office_by_area:
            return Decision(
                lead_unit_id=street_office_by_area[code],
                assist_unit_ids=(),
                rule=None,
                reason=f"no catalogue rule matched; first-receiving street office of area {code}",
            )
    return None


# The unit's workflow (签收 → 首次联系 → 办结反馈): status → {step: next status}. The states
# without steps are where an assignment ends, or waits for the centre (return_requested).
WORKFLOW: dict[str, dict[str, AssignmentStatus]] = {
    AssignmentStatus.DISPATCHED: {"sign": AssignmentStatus.SIGNED},
    AssignmentStatus.SIGNED: {"contact": AssignmentStatus.CONTACTED},
    AssignmentStatus.CONTACTED: {"reply": AssignmentStatus.REPLIED},
    AssignmentStatus.REPLIED: {},
    AssignmentStatus.RETURN_REQUESTED: {},
    AssignmentStatus.RETURNED: {},
    AssignmentStatus.WITHDRAWN: {},
    AssignmentStatus.FORWARDED: {},
    AssignmentStatus.TIMED_OUT: {},
}
ENDED = frozenset(
    {
        AssignmentStatus.REPLIED,
        AssignmentStatus.RETURNED,
        AssignmentStatus.WITHDRAWN,
        AssignmentStatus.FORWARDED,
        AssignmentStatus.TIMED_OUT,
    }
)
# Before the citizen is contacted: a unit may still return (退单) or forward (下派) it.
BEFORE_CONTACT = frozenset({AssignmentStatus.DISPATCHED, AssignmentStatus.SIGNED})
# The work is under way: progress notes and 延期 belong here.
UNDER_WAY = frozenset({AssignmentStatus.SIGNED, AssignmentStatus.CONTACTED})


def also_allowed(status: str, *, can_forward: bool = False) -> list[str]:
    """The side actions open beside the next workflow step: 退单, progress notes, 延期, and for a
    district government holding a level-by-level dispatch, forwarding it down (下派)."""
    actions: list[str] = []
    if status in BEFORE_CONTACT:
        actions.append("return")
        if can_forward:
            actions.append("forward")
    if status in UNDER_WAY:
        actions += ["extension", "note"]
    return sorted(actions)


def _refuse(detail: str, status: str, *, can_forward: bool = False) -> Conflict:
    return Conflict(
        detail,
        status_now=status,
        allowed_actions=sorted(WORKFLOW.get(status, {})),
        also_allowed=also_allowed(status, can_forward=can_forward),
    )


def next_status(status: str, action: str) -> AssignmentStatus:
    allowed = WORKFLOW.get(status, {})
    if action not in allowed:
        raise _refuse(f"Cannot '{action}' an assignment that is '{status}'.", status)
    return allowed[action]


def may_request_extension(status: str) -> None:
    """延期 is asked while the work is under way: after signing, before the reply."""
    if status not in UNDER_WAY:
        raise _refuse(
            f"An extension is requested after signing and before replying; this assignment is '{status}'.",
            status,
        )


def may_note(status: str) -> None:
    """Progress notes (办理进展) are added while the work is under way."""
    if status not in UNDER_WAY:
        raise _refuse(
            f"Progress notes are added after signing and before replying; this assignment is '{status}'.",
            status,
        )


def return_deadline(dispatched_at: datetime, window_hours: float) -> datetime:
    return dispatched_at + timedelta(hours=window_hours)


def may_return(status: str, dispatched_at: datetime, now: datetime, window_hours: float) -> None:
    """退单: before contacting the citizen, and within the window after dispatch."""
    if status not in BEFORE_CONTACT:
        raise _refuse(
            f"A ticket is returned before the citizen is contacted; this assignment is '{status}'.",
            status,
        )
    closes = return_deadline(dispatched_at, window_hours)
    if now > closes:
        raise Conflict(
            f"The return window of {window_hours:g} hours after dispatch closed at "
            f"{closes.isoformat()}; ask the centre for a re-dispatch or a joint determination.",
            status_now=status,
            allowed_actions=sorted(WORKFLOW.get(status, {})),
            also_allowed=[a for a in also_allowed(status) if a != "return"],
            window_closed_at=closes.isoformat(),
        )


def may_forward(status: str, *, role: str, mode: str, unit_kind: str) -> None:
    """逐级派发: the district government holding a level dispatch passes it down (下派)."""
    if not (role == "lead" and mode == "level" and unit_kind == "district_government"):
        raise Conflict(
            "Only a district government holding a level-by-level dispatch forwards it.",
            status_now=status,
            allowed_actions=sorted(WORKFLOW.get(status, {})),
            also_allowed=also_allowed(status),
        )
    if status not in BEFORE_CONTACT:
        raise _refuse(
            f"A dispatch is forwarded before the citizen is contacted; it is '{status}'.",
            status,
            can_forward=True,
        )


def check_reply(outcome: str, reason: str | None, legal_path: str | None) -> None:
    """办结反馈: 'cannot be solved' needs the reason and the legal path open to the citizen."""
    if outcome == "unsolvable":
        if not reason:
            raise InvalidInput("reason: say why the matter cannot be solved.", field="reason")
        if not legal_path:
            raise InvalidInput(
                "legal_path: name the legal path open to the citizen (法定途径).",
                field="legal_path",
            )


@dataclass(frozen=True)
class AssistantState:
    assignment_id: str
    unit_id: str
    status: str
    dispatched_at: datetime
    timed_out_at: datetime | None  # sla.breached of its completion stage


def assistant_timed_out(a: AssistantState, now: datetime, assist_reply_hours: float) -> bool:
    """An assisting unit that has not replied by its own deadline (`assist_reply_hours` after
    dispatch, or its sla completion breach, whichever is first) no longer holds up the lead."""
    return a.timed_out_at is not None or now >= a.dispatched_at + timedelta(
        hours=assist_reply_hours
    )


def pending_assistants(
    assistants: Iterable[AssistantState], now: datetime, assist_reply_hours: float
) -> list[AssistantState]:
    """Assisting units the lead still waits for: open, and not timed out."""
    return [
        a
        for a in assistants
        if a.status not in ENDED and not assistant_timed_out(a, now, assist_reply_hours)
    ]


def under_key_supervision(dispatch_count: int, threshold: int) -> bool:
    """重点督办: the first dispatch plus two re-dispatches (threshold 3) or more."""
    return dispatch_count >= threshold


def report_is_late(reported_at: datetime, respond_by: datetime) -> bool:
    """报到 after the whistle's time limit is late."""
    return reported_at > respond_by


def within_area(area_code: str, ancestor: str, parents: Mapping[str, str | None]) -> bool:
    return ancestor in area_chain(area_code, parents)


def is_role(ref: str) -> bool:
    return ref.startswith(ROLE_PREFIX)


def resolve_unit(
    ref: str, chain: Sequence[str], units_at: Mapping[tuple[str, str], str]
) -> str | None:
    """A unit id stays itself; "role:street_office" is the street office of the ticket's area
    (the nearest one up the area chain)."""
    if not is_role(ref):
        return ref
    kind = ref.removeprefix(ROLE_PREFIX)
    for code in chain:
        if (code, kind) in units_at:
            return units_at[(code, kind)]
    return None


@dataclass(frozen=True)
class DispatchPlan:
    lead_unit_id: str
    assist_unit_ids: tuple[str, ...]
    mode: str
    reason: str


def plan_dispatch(
    decision: Decision,
    *,
    mode: str,
    chain: Sequence[str],
    units_at: Mapping[tuple[str, str], str],
) -> DispatchPlan | None:
    """Turn the catalogue's decision into assignments under a dispatch mode.

    - direct (直派): straight to the lead (often the street office) and the assistants;
    - level (逐级派发): to the district government of the ticket's area, which forwards it down
      (the rule's lead is named as the suggestion); no district government → direct;
    - dual (双派): the rule's lead leads and the district government of the area assists,
      so the district and the city department both hold it while one of them is responsible.
    None when the rule's lead is a role with no such unit in the area.
    """
    lead = resolve_unit(decision.lead_unit_id, chain, units_at)
    if lead is None:
        return None
    assists: list[str] = []
    for ref in decision.assist_unit_ids:
        unit = resolve_unit(ref, chain, units_at)
        if unit and unit != lead and unit not in assists:
            assists.append(unit)
    district = resolve_unit(ROLE_PREFIX + "district_government", chain, units_at)
    reason = decision.reason
    if mode == "level" and district and district != lead:
        return DispatchPlan(
            district,
            (),
            "level",
            f"{reason}; 逐级派发: to district government {district}, to forward to {lead}",
        )
    if mode == "dual" and district and district != lead and district not in assists:
        return DispatchPlan(
            lead,
            (*assists, district),
            "dual",
            f"{reason}; 双派: district government {district} too",
        )
    return DispatchPlan(lead, tuple(assists), "direct" if mode == "level" else mode, reason)
