"""routing's HTTP models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.routing import AreaLevel, DispatchMode, ReplyOutcome, UnitClass, UnitKind
from shared.text import LINE, NAME, TEXT

Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
# An area's boundary (边界): a closed ring of [longitude, latitude] points, WGS-84.
Boundary = Annotated[
    list[tuple[Longitude, Latitude]],
    Field(min_length=3, max_length=5000, description="[[lng, lat], …], WGS-84"),
]
Alias = Annotated[str, Field(min_length=1, max_length=50), NAME]
# An id, code or category path given in a body: one line, refused with control characters.
Key = Annotated[str, Field(min_length=1, max_length=64), LINE]
Category = Annotated[str, Field(min_length=1, max_length=200), LINE]
Keyword = Annotated[str, Field(min_length=1, max_length=100), LINE]


class ReplyIn(BaseModel):
    """办结反馈: the outcome and the explanation the citizen will read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: ReplyOutcome
    explanation: Annotated[str, Field(min_length=1, max_length=2000), TEXT]
    # For "unsolvable": why, and the legal path open to the citizen (法定途径).
    reason: Annotated[str, Field(max_length=2000), TEXT] | None = None
    legal_path: Annotated[str, Field(max_length=1000), TEXT] | None = None


class ExtensionIn(BaseModel):
    """延期申请: how many more working days, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    days: int = Field(ge=1, le=60)
    reason: Annotated[str, Field(min_length=1, max_length=1000), TEXT]


class ExtensionOut(BaseModel):
    id: str
    assignment_id: str
    requested_days: int
    reason: str
    requested_at: datetime


class AssignmentOut(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    role: str
    round: int
    status: str
    allowed_actions: list[str]
    also_allowed: list[str]
    mode: str
    basis: str
    rule_id: str | None
    catalogue_version: int | None
    return_window_closes_at: datetime
    title: str
    description: str
    category: str
    address: str | None
    reason: str
    dispatched_at: datetime
    signed_at: datetime | None
    contacted_at: datetime | None
    replied_at: datetime | None
    outcome: str | None
    explanation: str | None
    unsolvable_reason: str | None
    legal_path: str | None


class UnitOut(BaseModel):
    id: str
    name: str
    kind: str
    unit_class: UnitClass  # 单位类别, from its kind (routing.domain.unit_class_of)
    area_code: str
    active: bool = True
    version: int = 1


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaIn(_In):
    """An area of the administrative hierarchy (city › district › street › community › grid)."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: Annotated[str, Field(min_length=1, max_length=100), NAME]
    level: AreaLevel
    parent: Annotated[str, Field(max_length=32), LINE] | None = None
    # Other names citizens use (简称、俗称): intake finds the area in a report's text by them.
    aliases: list[Alias] = Field(default_factory=list, max_length=20)
    boundary: Boundary | None = None


class AreaPatch(_In):
    name: Annotated[str, Field(min_length=1, max_length=100), NAME] | None = None
    parent: Annotated[str, Field(max_length=32), LINE] | None = None
    aliases: list[Alias] | None = Field(default=None, max_length=20)
    boundary: Boundary | None = None


class AreaOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    aliases: list[str]
    boundary: list[tuple[float, float]] | None
    active: bool
    version: int


class AreaProperties(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None


class Polygon(BaseModel):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]  # one closed ring: first point repeated last


class AreaFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: AreaProperties
    geometry: Polygon


class AreaMap(BaseModel):
    """The directory's boundaries as a GeoJSON FeatureCollection (RFC 7946): what a map draws
    without tiles (the big screen's districts and streets)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaFeature]


class UnitIn(_In):
    """A handling unit (承办单位) tied to its area."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: Annotated[str, Field(min_length=1, max_length=200), NAME]
    kind: UnitKind
    area_code: Annotated[str, Field(min_length=1, max_length=32), LINE]


class UnitPatch(_In):
    name: Annotated[str, Field(min_length=1, max_length=200), NAME] | None = None
    area_code: Annotated[str, Field(min_length=1, max_length=32), LINE] | None = None


class DirectoryVersionOut(BaseModel):
    version: int
    source: str
    areas: int
    units: int
    created_at: datetime
    created_by: str


class RuleIn(_In):
    """A catalogue rule: category (any level) × area (any level, none = whole city) × keywords
    → lead unit (an id, or "role:<kind>" resolved in the ticket's area) and assisting units."""

    id: Key
    category: Category
    area: Annotated[str, Field(max_length=32), LINE] | None = None
    keywords: list[Keyword] = Field(default_factory=list, max_length=10)
    lead: Key
    assist: list[Key] = Field(default_factory=list, max_length=10)
    mode: DispatchMode | None = None


class RuleOut(BaseModel):
    id: str
    category: str
    area: str | None
    keywords: list[str]
    lead: str
    assist: list[str]
    mode: str | None
    version: int


class CatalogueIn(_In):
    """A new catalogue version: the complete rule set, in force from `effective_from`."""

    effective_from: AwareDatetime | None = None  # None: now
    note: Annotated[str, Field(max_length=1000), TEXT] = ""
    rules: list[RuleIn] = Field(min_length=1, max_length=5000)


class CatalogueVersionOut(BaseModel):
    version: int
    effective_from: datetime
    source: str
    note: str
    rule_count: int
    created_at: datetime
    created_by: str
    in_force: bool


class ExplainIn(_In):
    category: Category
    area_code: Annotated[str, Field(max_length=32), LINE] | None = None
    text: Annotated[str, Field(max_length=4000), TEXT] = ""
    at: AwareDatetime | None = None


class CandidateOut(BaseModel):
    rule: RuleOut
    specificity: list[int]  # category depth, area rank, keyword count


class ExplainOut(BaseModel):
    catalogue_version: int | None
    lead_unit_id: str | None
    assist_unit_ids: list[str]
    mode: str | None
    rule_id: str | None
    reason: str
    candidates: list[CandidateOut]


class DispatchIn(_In):
    """The dispatcher's choice: manual dispatch from the queue, or a re-dispatch (改派)."""

    lead_unit_id: Key
    # None on a re-dispatch keeps the open assisting units; a list replaces them.
    assist_unit_ids: list[Key] | None = Field(default=None, max_length=10)
    reason: Annotated[str, Field(min_length=1, max_length=300), TEXT]


class ForwardIn(_In):
    """下派: a district government passes a level-by-level dispatch down to one of its units."""

    unit_id: Key
    assist_unit_ids: list[Key] = Field(default_factory=list, max_length=10)
    reason: Annotated[str, Field(max_length=300), TEXT] = "逐级下派"


class AdditionOut(BaseModel):
    """What the citizen (or an operator for them) added after dispatch (补充诉求)."""

    source: str  # citizen, operator, repeat (the same citizen reported it again)
    text: str
    attachments: int
    added_at: datetime


class RoutedTicketOut(BaseModel):
    id: str
    category: str
    area_code: str | None
    status: str
    queued_reason: str | None
    round: int
    dispatch_count: int
    redispatch_count: int
    return_count: int
    key_supervision: bool
    lead_unit_id: str | None
    assignments: list[AssignmentOut]
    additions: list[AdditionOut] = []  # 补充诉求, oldest first


class NoteIn(_In):
    text: Annotated[str, Field(min_length=1, max_length=2000), TEXT]


class NoteOut(BaseModel):
    id: str
    assignment_id: str
    text: str
    noted_at: datetime


class TemplateIn(_In):
    category: Category
    outcome: ReplyOutcome | None = None
    title: Annotated[str, Field(min_length=1, max_length=200), LINE]
    text: Annotated[str, Field(min_length=1, max_length=4000), TEXT]


class TemplateOut(BaseModel):
    id: str
    category: str
    outcome: str | None
    title: str
    text: str


ReturnReason = Literal[
    "not_our_duty", "wrong_area", "wrong_level", "insufficient_information", "other"
]


class ReturnIn(_In):
    """退单: why the ticket is not this unit's."""

    reason_code: ReturnReason
    explanation: Annotated[str, Field(min_length=1, max_length=2000), TEXT]


class ReturnDecisionIn(_In):
    """The centre's decision. Approving a lead's return names the new lead (`unit_id`);
    approving an assistant's return may name a replacement assistant."""

    unit_id: Annotated[str, Field(max_length=64), LINE] | None = None
    note: Annotated[str, Field(max_length=1000), TEXT] = ""


class ReturnOut(BaseModel):
    id: str
    assignment_id: str
    ticket_id: str
    unit_id: str
    reason_code: str
    explanation: str
    status: str
    requested_at: datetime
    window_closes_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    redispatched_to: str | None


class NewRuleIn(_In):
    """A rule added to the catalogue by a joint determination."""

    id: Annotated[str, Field(max_length=64), LINE] | None = None
    category: Category
    area: Annotated[str, Field(max_length=32), LINE] | None = None
    keywords: list[Keyword] = Field(default_factory=list, max_length=10)


class DeterminationIn(_In):
    """联合认定: the units consulted, who leads from now on, and the decision."""

    participants: list[Key] = Field(min_length=1, max_length=20)
    lead_unit_id: Key
    assist_unit_ids: list[Key] = Field(default_factory=list, max_length=10)
    decision: Annotated[str, Field(min_length=1, max_length=2000), TEXT]
    add_rule: NewRuleIn | None = None


class DeterminationOut(BaseModel):
    id: str
    ticket_id: str
    participants: list[str]
    lead_unit_id: str
    assist_unit_ids: list[str]
    decision: str
    rule_id: str | None
    catalogue_version: int | None
    decided_at: datetime


class WhistleIn(_In):
    """吹哨: the departments that must report, and the time limit in hours."""

    department_ids: list[Key] = Field(min_length=1, max_length=20)
    hours: int = Field(ge=1, le=168)
    reason: Annotated[str, Field(min_length=1, max_length=2000), TEXT]


class WhistleReportIn(_In):
    """报到: what the department did."""

    report: Annotated[str, Field(min_length=1, max_length=2000), TEXT]


class SummonsOut(BaseModel):
    unit_id: str
    reported_at: datetime | None
    report: str | None
    late: bool | None
    overdue: bool  # not reported and past the limit


class WhistleOut(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    reason: str
    blown_at: datetime
    respond_by: datetime
    summons: list[SummonsOut]


class ImportOut(BaseModel):
    version: int
    areas: int = 0
    units: int = 0
    rules: int = 0
