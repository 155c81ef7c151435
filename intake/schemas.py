"""intake's HTTP models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.intake import TicketKind, Urgency
from shared.text import LINE, NAME, TEXT

# 12345热线 网站 App 微信小程序 微博 领导留言板 市长信箱 短信 政务舆情 网格员 Open311
Channel = Literal[
    "phone",
    "web",
    "app",
    "wechat",
    "weibo",
    "message_board",
    "mayor_mailbox",
    "sms",
    "opinion",
    "grid",
    "open311",
]


class CitizenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=32), NAME] | None = None
    phone: Annotated[str, Field(max_length=32), LINE] | None = None
    anonymous: bool = False

    @model_validator(mode="after")
    def phone_unless_anonymous(self) -> CitizenIn:
        if not self.anonymous and not self.phone:
            raise ValueError("phone is required unless the citizen is anonymous")
        return self


class AttachmentIn(BaseModel):
    """An attachment's metadata (the file stays in the channel's store): a url or a sha256."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200), LINE]
    content_type: Annotated[str, Field(min_length=1, max_length=100), LINE] = Field(
        examples=["image/jpeg"]
    )
    size: int = Field(description="bytes")
    url: Annotated[str, Field(max_length=1000), LINE] | None = None
    sha256: Annotated[str, Field(max_length=64), LINE] | None = None


class SuggestionShown(BaseModel):
    """What intake's classification help showed the operator when the category was chosen (the
    desk's last `POST /api/v1/classify` before the ticket was taken): the categories offered,
    best first, and where they came from. The override rate compares the ticket's category with
    the first (GET /api/v1/classify/overrides)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    top: list[Annotated[str, Field(min_length=1, max_length=200), LINE]] = Field(
        min_length=1,
        max_length=3,
        description="the categories offered, best first (the first is the one pre-filled or "
        "offered first)",
        examples=[["城市管理/市容环境/占道经营", "城市管理/市容环境/垃圾清运"]],
    )
    source: Literal["model", "keywords"] = Field(
        description="the learned model was sure enough, or the keyword rules answered"
    )
    model_version: Annotated[str, Field(max_length=64), LINE] | None = Field(
        default=None, description="the model in use then (none: no model)"
    )


class TicketIn(BaseModel):
    """A report as a channel gateway posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    kind: TicketKind
    category: Annotated[str, Field(min_length=1, max_length=200), LINE] = Field(
        examples=["城市管理/市容环境/占道经营"]
    )
    urgency: Urgency = "ordinary"
    title: Annotated[str, Field(min_length=1, max_length=100), LINE]
    description: Annotated[str, Field(min_length=1, max_length=4000), TEXT]
    address: Annotated[str, Field(max_length=300), LINE] | None = None
    area_code: Annotated[str, Field(max_length=32), LINE] | None = None
    longitude: float | None = Field(default=None, description="WGS-84")
    latitude: float | None = Field(default=None, description="WGS-84")
    citizen: CitizenIn
    attachments: list[AttachmentIn] = Field(default_factory=list)
    answer: Annotated[str, Field(min_length=1, max_length=2000), TEXT] | None = Field(
        default=None,
        description="在线解答: an operator's answer given on the spot; closes a consultation at intake",
    )
    same_matter_of: Annotated[str, Field(min_length=1, max_length=32), LINE] | None = Field(
        default=None,
        description=(
            "同一诉求: the open ticket the operator confirmed this report is the same matter as "
            "(one of POST /api/v1/same-matter/candidates). The caller's own: the report is "
            "linked to it as a repeat (重复诉求, 200, no new ticket). Another citizen's: a new "
            "ticket that names it and counts with it toward a cluster. 409 if it is no longer "
            "open"
        ),
    )
    suggestion: SuggestionShown | None = Field(
        default=None,
        description=(
            "the category suggestion the operator was shown when choosing `category`, as shown "
            "(not recomputed here: the text, the model in use or the taxonomy may have changed "
            "since); what the override rate is measured on"
        ),
    )


class CitizenOut(BaseModel):
    name: str | None
    phone: str | None  # masked (138****5678) except for operators
    anonymous: bool


class UnitRef(BaseModel):
    id: str
    name: str | None


class RepeatOut(BaseModel):
    id: str
    channel: str
    title: str
    description: str
    similarity: float
    received_at: datetime


class TimelineOut(BaseModel):
    at: datetime
    event: str
    text: str


class TicketOut(BaseModel):
    id: str
    status: str
    status_text: str
    channel: str
    kind: str
    category: str
    urgency: str
    title: str
    description: str
    address: str | None
    area_code: str | None
    citizen: CitizenOut
    lead_unit: UnitRef | None
    received_at: datetime
    timeline: list[TimelineOut]
    longitude: float | None = None
    latitude: float | None = None
    attachments: list[dict[str, Any]] = []
    channel_refs: dict[str, Any] | None = None  # operators only: ids in the channel's system
    category_source: str | None = None  # given, or suggested by intake's classification help
    classification_reasons: list[str] = []
    repeat_count: int = 0
    repeats: list[RepeatOut] = []
    cluster_id: str | None = None
    expected_at: datetime | None = None  # the lead unit's completion deadline, once known
    # 同一诉求: another citizen's open ticket the operator confirmed this one is the same matter as.
    same_matter_of: str | None = None
    suggestion: SuggestionShown | None = None  # the category suggestion shown when it was chosen


class TicketSummary(BaseModel):
    id: str
    status: str
    status_text: str
    channel: str
    category: str
    title: str
    area_code: str | None
    lead_unit: UnitRef | None
    received_at: datetime
    repeat_count: int = 0
    cluster_id: str | None = None


class ReportAccepted(BaseModel):
    """What a channel gateway gets back: a new ticket, or a repeat linked to an open one."""

    outcome: Literal["ticket", "repeat"]
    ticket_id: str
    repeat_id: str | None = None
    replayed: bool = False  # a retry (same Idempotency-Key or channel message id)
    ticket: TicketOut


class ClassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, Field(max_length=100), LINE] = ""
    description: Annotated[str, Field(min_length=1, max_length=4000), TEXT]
    category: Annotated[str, Field(max_length=200), LINE] | None = Field(
        default=None,
        description="the category chosen so far, if any: the lead-unit suggestion reads it "
        "(else the category suggested)",
    )
    address: Annotated[str, Field(max_length=300), LINE] | None = Field(
        default=None, description="the address given so far, if any (the lead-unit suggestion)"
    )


class CategoryScore(BaseModel):
    category: str
    score: float


class CategoryCandidate(BaseModel):
    """One of the learned model's top categories, its probability and the terms that weighed
    most for it."""

    category: str
    probability: float
    reasons: list[str]


class LabelCandidate(BaseModel):
    """One of a learned model's top values (an urgency or a kind), its probability and the
    terms that weighed most for it."""

    value: str
    probability: float
    reasons: list[str]


class LearnedSuggestion(BaseModel):
    """What the urgency or kind model in use said: its top 3 (empty without a model), and who
    chose the value answered beside it: the model when sure enough, else the rules."""

    source: Literal["model", "keywords"] = "keywords"
    model_version: str | None = None
    top: list[LabelCandidate] = []


class UnitCandidate(BaseModel):
    """A unit the centre finally dispatched such reports to as lead, with the model's
    probability and the terms that weighed most."""

    unit_id: str
    unit_name: str | None
    probability: float
    reasons: list[str]


class LeadUnitSuggestion(BaseModel):
    """The lead units the learned model suggests for the dispatcher, best first (empty
    without a model). A suggestion only: routing's catalogue decides dispatch."""

    model_version: str | None = None
    top: list[UnitCandidate] = []


class ClassifyOut(BaseModel):
    """A suggestion the operator accepts or overrides; `reasons` say why. `category` is
    pre-filled only when the model (or, without one, the keyword rules) is sure enough; `top`
    always lists the model's three best with their probabilities. `urgency` and `kind` are the
    model's when it is sure enough, else the rules' (an emergency word is never overruled);
    `urgency_suggestion` and `kind_suggestion` list their models' top 3, `lead_unit` the lead
    units suggested."""

    category: str | None
    urgency: Urgency
    kind: TicketKind
    reasons: list[str]
    alternatives: list[CategoryScore]
    source: Literal["model", "keywords"] = "keywords"
    model_version: str | None = None
    top: list[CategoryCandidate] = []
    urgency_suggestion: LearnedSuggestion = LearnedSuggestion()
    kind_suggestion: LearnedSuggestion = LearnedSuggestion()
    lead_unit: LeadUnitSuggestion = LeadUnitSuggestion()


class ModelVersionOut(BaseModel):
    """A stored suggestion model (docs/suggestions.md): how it was trained and how it scored on
    the part of its data held out."""

    target: str = Field(
        default="category", description="what it suggests: category, urgency, kind, lead_unit"
    )
    name: str
    in_use: bool
    meta: dict[str, Any]
    evaluation: dict[str, Any]


class OverrideRateOut(BaseModel):
    """How often operators chose another category than the suggestion they were shown, by the
    category they chose (改判率), over the tickets whose category an operator or channel gave."""

    category: str = Field(description="the category the operator chose")
    tickets: int = Field(description="tickets of that category")
    prefilled: int = Field(
        description="of those, taken with a category suggestion shown (recorded with the ticket)"
    )
    overridden: int = Field(description="of those, where the category is not the one offered first")
    outside_top: int = Field(description="of those, where it is none of the categories offered")
    rate: float = Field(description="overridden / prefilled (0 when nothing was shown)")


class SameMatterIn(BaseModel):
    """The report the operator is typing, as far as it goes: what (category, title,
    description), where (address, area code, coordinates) and who (the caller)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Annotated[str, Field(min_length=1, max_length=200), LINE] = Field(
        examples=["城市管理/市容环境/占道经营"]
    )
    title: Annotated[str, Field(max_length=100), LINE] = ""
    description: Annotated[str, Field(max_length=4000), TEXT] = ""
    address: Annotated[str, Field(max_length=300), LINE] | None = None
    area_code: Annotated[str, Field(max_length=32), LINE] | None = None
    longitude: float | None = Field(default=None, description="WGS-84")
    latitude: float | None = Field(default=None, description="WGS-84")
    citizen: CitizenIn | None = Field(
        default=None, description="the caller: their own open tickets are strong evidence"
    )

    @model_validator(mode="after")
    def some_text(self) -> SameMatterIn:
        if not self.title and not self.description:
            raise ValueError("give the title or the description of the report")
        return self


class SameMatterCandidateOut(BaseModel):
    """An open ticket the report may be the same matter as (同一诉求候选), for the operator to
    confirm or not. Its texts are redacted (脱敏) for every reader."""

    ticket_id: str
    score: float = Field(description="text similarity, 0..1 (the same measure as repeats)")
    same_citizen: bool = Field(description="the caller's own ticket: linked as a repeat")
    cluster_id: str | None
    title: str
    summary: str = Field(description="the start of the description")
    status: str
    status_text: str
    category: str
    area_code: str | None
    received_at: datetime


class SameMatterOut(BaseModel):
    """The best candidates first; empty when no open ticket is similar enough."""

    area_code: str | None = Field(description="the area the report was compared in")
    threshold: float = Field(description="the similarity another citizen's ticket needs")
    candidates: list[SameMatterCandidateOut]


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ticket_id: Annotated[str, Field(min_length=1, max_length=32), LINE]
    phone: Annotated[str, Field(min_length=1, max_length=32), LINE]


class CitizenTimelineOut(BaseModel):
    at: datetime
    text: str


class CitizenTicketOut(BaseModel):
    """What a citizen sees of their ticket in the mini-program: plain Chinese, no internals."""

    id: str
    status: str
    status_text: str
    title: str
    category: str
    received_at: datetime
    handled_by: str | None
    expected_at: datetime | None
    can_add_info: bool
    timeline: list[CitizenTimelineOut]


class AddInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: Annotated[str, Field(min_length=1, max_length=32), LINE]
    text: Annotated[str, Field(min_length=1, max_length=2000), TEXT]
    attachments: list[AttachmentIn] = Field(default_factory=list)


class OperatorInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Annotated[str, Field(min_length=1, max_length=2000), TEXT]
    attachments: list[AttachmentIn] = Field(default_factory=list)
