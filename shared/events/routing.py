"""Events produced by routing."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from shared.events.envelope import Payload, event
from shared.events.intake import TicketKind, Urgency

AssignmentRole = Literal["lead", "assist"]  # 主办 / 协办
# 已解决 / 部分解决 / 无法解决(附理由与法定途径)
ReplyOutcome = Literal["solved", "partly_solved", "unsolvable"]

# How a dispatch happened: 直派 straight to the unit, 逐级 through the district, 双派 district too.
DispatchMode = Literal["direct", "level", "dual"]
# Why this dispatch: the catalogue, 首接负责, the dispatcher by hand, a re-dispatch, a district
# forwarding it down (level mode), an approved return, a joint determination, a re-open (重办).
DispatchBasis = Literal[
    "catalogue",
    "first_receiving",
    "manual",
    "redispatch",
    "forwarded",
    "returned",
    "determination",
    "reopened",
]
# Why an assignment ended without a reply or an approved return.
WithdrawnReason = Literal["redispatched", "forwarded", "determination", "timed_out"]

# The directory (目录) routing owns: areas of the administrative hierarchy and handling units.
AreaLevel = Literal["city", "district", "street", "community", "grid"]
# 市级部门 区政府 区级部门 街道办事处(乡镇) 社区(村) 企业
UnitKind = Literal[
    "city_department",
    "district_government",
    "district_department",
    "street_office",
    "community",
    "enterprise",
]
# A unit's class (单位类别) for deadlines and class-based rankings (分类考核): decided once, by
# routing, from the unit's kind (routing.domain.unit_class_of); other services learn it from
# `directory.unit_changed` and `ticket.dispatched`.
UnitClass = Literal["department", "district", "street", "community", "enterprise"]
DirectoryChange = Literal["created", "changed", "retired"]
# Directory events are not about one ticket: they travel under this one key (the envelope's
# `ticket_id`, the partition key), so every consumer sees them in the order routing made them.
DIRECTORY_KEY = "directory"


@event("ticket.dispatched", version=1)
class TicketDispatched(Payload):
    """A unit was given the ticket (派单), as lead or assisting unit."""

    assignment_id: str
    unit_id: str
    unit_name: str
    role: AssignmentRole
    kind: TicketKind
    urgency: Urgency
    rule_id: str | None
    catalogue_version: int | None
    dispatch_count: int
    round: int = 1  # 1 for first handling; 2, 3… for re-handling after a re-open (重办)
    mode: DispatchMode = "direct"
    basis: DispatchBasis = "catalogue"
    return_count: int = 0  # approved returns (退单) of this ticket so far
    # The unit's class when dispatched; None only in events written before it travelled here.
    unit_class: UnitClass | None = None


@event("assignment.signed", version=1)
class AssignmentSigned(Payload):
    """The unit signed for the ticket (签收)."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole


@event("assignment.contacted", version=1)
class AssignmentContacted(Payload):
    """The unit made first contact with the citizen (首次联系): the response."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole


@event("assignment.replied", version=1)
class AssignmentReplied(Payload):
    """The unit replied with its outcome (办结反馈)."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole
    outcome: ReplyOutcome
    explanation: str
    # For "unsolvable": why, and the legal path open to the citizen (法定途径).
    reason: str | None = None
    legal_path: str | None = None


@event("ticket.replied", version=1)
class TicketReplied(Payload):
    """Handling of the ticket is complete: the lead replied (and its assistants are done)."""

    lead_assignment_id: str
    lead_unit_id: str
    outcome: ReplyOutcome
    explanation: str
    round: int = 1  # the handling round this reply closes
    reason: str | None = None
    legal_path: str | None = None


@event("assignment.extension_requested", version=1)
class ExtensionRequested(Payload):
    """The unit asks for more time (延期申请); sla's centre staff approve or refuse it."""

    request_id: str
    assignment_id: str
    unit_id: str
    requested_days: int  # working days added to the completion deadline
    reason: str


@event("assignment.returned", version=1)
class AssignmentReturned(Payload):
    """The unit returned a ticket that is not its own (退单), with a reason. Emitted when the
    centre approves the return: the assignment has ended."""

    assignment_id: str
    unit_id: str
    reason_code: str
    explanation: str
    return_id: str | None = None
    status: Literal["approved"] = "approved"


@event("assignment.withdrawn", version=1)
class AssignmentWithdrawn(Payload):
    """An assignment ended by the centre or the workflow, not by the unit: re-dispatch, a
    district forwarding it down, a joint determination, or an assisting unit that timed out
    when the lead closed the handling. Its clocks stop."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole
    reason: WithdrawnReason
    round: int = 1


@event("ticket.key_supervision", version=1)
class TicketKeySupervision(Payload):
    """Two or more re-dispatches put the ticket under key supervision (重点督办)."""

    dispatch_count: int
    return_count: int
    reason: Literal["redispatched"] = "redispatched"


@event("assignment.progress_noted", version=1)
class ProgressNoted(Payload):
    """The unit added a progress note (办理进展); the text stays in routing."""

    note_id: str
    assignment_id: str
    unit_id: str


@event("whistle.blown", version=1)
class WhistleBlown(Payload):
    """吹哨: a street or community summons departments to report (报到) by `respond_by`."""

    whistle_id: str
    unit_id: str  # the street or community that blew the whistle
    department_ids: list[str]
    respond_by: AwareDatetime


@event("whistle.reported", version=1)
class WhistleReported(Payload):
    """报到: a summoned department reported; `late` when after `respond_by`."""

    whistle_id: str
    unit_id: str
    respond_by: AwareDatetime
    late: bool


@event("ticket.ownership_determined", version=1)
class OwnershipDetermined(Payload):
    """联合认定: the centre settled disputed ownership; may have added a catalogue rule."""

    determination_id: str
    lead_unit_id: str
    assist_unit_ids: list[str]
    rule_id: str | None = None
    catalogue_version: int | None = None


@event("directory.area_changed", version=1)
class AreaChanged(Payload):
    """An area (区域) was created, changed or retired. Carries the area's whole state, so a
    consumer replaces its copy: intake's gazetteer and boundaries, analytics' names and levels."""

    change: DirectoryChange
    code: str
    area_name: str
    level: AreaLevel
    parent: str | None
    aliases: tuple[str, ...] = ()
    boundary: list[tuple[float, float]] | None = None  # [[lng, lat], …], WGS-84
    directory_version: int  # the directory version that made this change


@event("directory.unit_changed", version=1)
class UnitChanged(Payload):
    """A handling unit (承办单位) was created, changed or retired, with its class. Carries the
    unit's whole state, so a consumer replaces its copy (sla's policies, analytics' rankings)."""

    change: DirectoryChange
    unit_id: str
    unit_name: str
    kind: UnitKind
    unit_class: UnitClass
    area_code: str
    directory_version: int
