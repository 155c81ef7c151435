"""intake's rules: pure functions, no database, no HTTP, no clock reads."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from intake import similarity
from shared.clock import CHINA
from shared.errors import Conflict, InvalidInput
from shared.events import Payload, callback, routing, sla
from shared.redaction import redact

if TYPE_CHECKING:
    from intake.classify import Suggestion
    from intake.gazetteer import Gazetteer

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


class TicketStatus(StrEnum):
    """A ticket's status (工单状态), in the order a handling round moves through them; a re-open
    starts the next round. The values are what the database and the API carry."""

    RECEIVED = "received"
    REOPENED = "reopened"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    REPLIED = "replied"
    CLOSED = "closed"


# How a citizen reads each status.
STATUS_TEXT: dict[str, str] = {
    TicketStatus.RECEIVED: "已受理",
    TicketStatus.REOPENED: "重新办理中",
    TicketStatus.DISPATCHED: "已派单",
    TicketStatus.IN_PROGRESS: "办理中",
    TicketStatus.ANSWERED: "已当场解答，待回访",
    TicketStatus.REPLIED: "已办结，待回访",
    TicketStatus.CLOSED: "已结案",
}
# Open: still being handled, so it can be repeated, clustered and added to. An answer on the spot
# (answered) and a closed ticket are not open.
STATUS_OPEN = frozenset(
    {
        TicketStatus.RECEIVED,
        TicketStatus.DISPATCHED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.REOPENED,
        TicketStatus.REPLIED,
    }
)
_ROUND_ORDER: dict[str, int] = {status: rank for rank, status in enumerate(TicketStatus)}

LEVEL_DEPTH = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}

SUPERVISION_TEXT = {
    "platform": "平台督办",
    "phone": "电话督办",
    "on_site": "现场督办",
    "joint": "联合督办",
}
STAGE_TEXT = {"sign": "签收", "response": "首次联系", "completion": "办结"}
ROLE_TEXT = {"lead": "主办", "assist": "协办"}
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


def progress(payload: Payload) -> tuple[TicketStatus | None, str]:
    """The ticket status an event moves to (None: unchanged) and its line in the timeline
    (办理进度), by the event's payload class."""
    match payload:
        case routing.TicketDispatched(role="lead"):
            return TicketStatus.DISPATCHED, f"已派发至{payload.unit_name}（主办）"
        case routing.TicketDispatched():
            return None, f"已派发至{payload.unit_name}（协办）"
        case routing.AssignmentSigned():
            return TicketStatus.IN_PROGRESS, f"承办单位已签收（{ROLE_TEXT[payload.role]}）"
        case routing.AssignmentContacted():
            return None, f"承办单位已联系诉求人（{ROLE_TEXT[payload.role]}）"
        case routing.ProgressNoted():
            return None, "承办单位更新了办理进展"
        case routing.TicketReplied():
            outcome = OUTCOME_TEXT[payload.outcome]
            return TicketStatus.REPLIED, f"承办单位已办结反馈：{outcome}。{payload.explanation}"
        case callback.CallbackCompleted():
            solved = SOLVED_TEXT[payload.solved]
            satisfaction = SATISFACTION_TEXT[payload.satisfaction]
            return None, f"回访完成：问题{solved}，评价{satisfaction}"
        case callback.TicketClosed():
            return TicketStatus.CLOSED, "工单已结案"
        case sla.SlaBreached(scope="ticket"):
            return None, "已超过承诺办结时间，已纳入督办"
        case sla.SlaBreached():
            return None, f"{STAGE_TEXT.get(payload.stage, '办理')}超期，已提醒承办单位"
        case callback.TicketReopened():
            return (
                TicketStatus.REOPENED,
                f"回访未解决，第{payload.round}轮重新办理：{payload.reason}",
            )
        case routing.TicketKeySupervision():
            return None, f"已改派{payload.dispatch_count - 1}次，列为重点督办"
        case sla.TicketSupervised():
            return None, f"已纳入督办（{SUPERVISION_TEXT.get(payload.level, payload.level)}）"
        case routing.WhistleBlown():
            return None, f"街乡吹哨，{len(payload.department_ids)}个部门须按时报到"
        case routing.WhistleReported(late=True):
            return None, "被召集部门已报到（超时）"
        case routing.WhistleReported():
            return None, "被召集部门已按时报到"
        case routing.OwnershipDetermined():
            return None, "联合认定完成，已明确主办单位"
    return None, payload.event_type


def moves_forward(current: str, new: str) -> bool:
    """Status only moves forward within a round; a re-open starts the next round."""
    return new == TicketStatus.REOPENED or _ROUND_ORDER[new] > _ROUND_ORDER[current]


def check_on_the_spot_answer(kind: str, answer: str | None) -> None:
    """在线解答: only a consultation is answered and closed at intake."""
    if answer is not None and kind != "consultation":
        raise InvalidInput(
            f"answer: only a consultation can be answered on the spot, not a '{kind}'.",
            field="answer",
        )


# ---------------------------------------------------------------------------- input checks

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_category(category: str, known: frozenset[str], field: str = "category") -> None:
    """The category must be a node of the configured taxonomy (when one is loaded)."""
    if known and category not in known:
        raise InvalidInput(
            f"{field}: '{category}' is not in the taxonomy; use a path such as "
            f"'城市管理/市容环境/占道经营' (GET /open311/v2/services.json lists the leaves).",
            field=field,
        )


def check_coordinates(longitude: float | None, latitude: float | None, field: str) -> None:
    """WGS-84 longitude and latitude, both or neither, in range and not the (0, 0) placeholder."""
    if longitude is None and latitude is None:
        return
    if longitude is None or latitude is None:
        raise InvalidInput(f"{field}: give both longitude and latitude, or neither.", field=field)
    if not (-180 <= longitude <= 180) or not (-90 <= latitude <= 90):
        raise InvalidInput(
            f"{field}: ({longitude}, {latitude}) is out of range (longitude -180..180, "
            "latitude -90..90).",
            field=field,
        )
    if longitude == 0 and latitude == 0:
        raise InvalidInput(f"{field}: (0, 0) is a placeholder, not a location.", field=field)


@dataclass(frozen=True)
class AttachmentRules:
    types: frozenset[str]
    max_bytes: int
    max_count: int


def check_attachments(
    attachments: Sequence[Mapping[str, Any]], rules: AttachmentRules, field: str = "attachments"
) -> None:
    """Metadata only: an allowed type, a size within the limit, and a url or sha256."""
    if len(attachments) > rules.max_count:
        raise InvalidInput(
            f"{field}: {len(attachments)} attachments, at most {rules.max_count} allowed.",
            field=field,
        )
    for i, item in enumerate(attachments):
        where = f"{field}[{i}]"
        content_type = str(item.get("content_type") or "")
        if content_type not in rules.types:
            raise InvalidInput(
                f"{where}.content_type: '{content_type}' is not allowed; allowed: "
                f"{', '.join(sorted(rules.types))}.",
                field=f"{where}.content_type",
            )
        size = item.get("size")
        if not isinstance(size, int) or size <= 0 or size > rules.max_bytes:
            raise InvalidInput(
                f"{where}.size: {size!r} bytes; must be 1..{rules.max_bytes}.",
                field=f"{where}.size",
            )
        sha = item.get("sha256")
        if not item.get("url") and not sha:
            raise InvalidInput(f"{where}: give its url or its sha256.", field=where)
        if sha and not SHA256.match(str(sha)):
            raise InvalidInput(
                f"{where}.sha256: not a hex SHA-256 digest.", field=f"{where}.sha256"
            )


def title_from(text: str, limit: int = 30) -> str:
    """A title for channels that send only text (SMS, Weibo): its first sentence, shortened."""
    first = re.split(r"[。！？!?\n；;]", text.strip(), maxsplit=1)[0].strip() or text.strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


# ---------------------------------------------------------------------------- areas by coordinates


@dataclass(frozen=True)
class Boundary:
    area_code: str
    level: str
    ring: tuple[tuple[float, float], ...]  # [(lng, lat), …], closed or not


def point_in_ring(lng: float, lat: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Ray casting (even-odd rule); a point on an edge may fall either side."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < x_cross:
                inside = not inside
    return inside


def area_at(lng: float, lat: float, boundaries: Iterable[Boundary]) -> str | None:
    """The deepest configured area (grid beats community beats street) containing the point."""
    best: tuple[int, str] | None = None
    for boundary in boundaries:
        if point_in_ring(lng, lat, boundary.ring):
            key = (LEVEL_DEPTH.get(boundary.level, 0), boundary.area_code)
            if best is None or key > best:
                best = key
    return best[1] if best else None


# ---------------------------------------------------------------------------- same matter


@dataclass(frozen=True)
class Matter:
    """What "same matter" compares: category, place and content words."""

    ticket_id: str
    category: str
    area_code: str | None
    terms: tuple[str, ...]
    longitude: float | None = None
    latitude: float | None = None
    citizen_ref: str | None = None
    received_at: datetime | None = None
    cluster_id: str | None = None


def same_matter(new: Matter, old: Matter, *, threshold: float, metres: float) -> float | None:
    """The similarity when `new` and `old` are the same matter (同一诉求), else None: the same
    category, the same area (or both unresolved), within `metres` where both have coordinates,
    and text similarity at least `threshold`."""
    if new.category != old.category or new.area_code != old.area_code:
        return None
    if None not in (new.longitude, new.latitude, old.longitude, old.latitude):
        distance = similarity.haversine_metres(
            new.longitude,  # type: ignore[arg-type]
            new.latitude,  # type: ignore[arg-type]
            old.longitude,  # type: ignore[arg-type]
            old.latitude,  # type: ignore[arg-type]
        )
        if distance > metres:
            return None
    score = similarity.similarity_of_terms(new.terms, old.terms)
    return score if score >= threshold else None


def repeat_target(
    new: Matter, open_tickets: Iterable[Matter], *, threshold: float, metres: float
) -> tuple[str, float] | None:
    """The open ticket of the same citizen this report repeats: the most similar one."""
    if not new.citizen_ref:
        return None  # an anonymous report cannot be told apart from another person's
    best: tuple[float, str] | None = None
    for old in open_tickets:
        if old.citizen_ref != new.citizen_ref:
            continue
        score = same_matter(new, old, threshold=threshold, metres=metres)
        if score is not None and (best is None or score > best[0]):
            best = (score, old.ticket_id)
    return (best[1], best[0]) if best else None


def reporter_key(matter: Matter) -> str:
    """Who reported: the citizen, or for an anonymous report the ticket itself."""
    return matter.citizen_ref or f"anonymous:{matter.ticket_id}"


def cluster_members(
    new: Matter,
    open_tickets: Iterable[Matter],
    *,
    threshold: float,
    metres: float,
    confirmed: str | None = None,
) -> list[Matter]:
    """The open tickets of the same matter as `new` (itself excluded), any reporter; the one an
    operator `confirmed` as the same matter counts whatever its score."""
    return [
        old
        for old in open_tickets
        if old.ticket_id != new.ticket_id
        and (
            old.ticket_id == confirmed
            or same_matter(new, old, threshold=threshold, metres=metres) is not None
        )
    ]


def confirmed_as_repeat(new: Matter, confirmed: Matter, *, answered: bool) -> bool:
    """同一诉求 as an operator confirmed it (`same_matter_of`): the caller's own open ticket is
    repeated (重复诉求: linked to it, not filed again); another citizen's is joined by a ticket
    of the caller's own that names it (each citizen is answered and called back). An answer on
    the spot is a ticket of its own either way."""
    return not answered and bool(new.citizen_ref) and confirmed.citizen_ref == new.citizen_ref


def check_confirmable(ticket_id: str, status: str) -> None:
    """Only an open ticket can be confirmed as the same matter: one answered or closed since
    the candidates were shown is refused (Conflict naming the field)."""
    if status not in STATUS_OPEN:
        raise Conflict(
            f"same_matter_of: ticket {ticket_id} is no longer open ({STATUS_TEXT[status]}); "
            "confirm another candidate or none.",
            field="same_matter_of",
            allowed_actions=["confirm_another", "confirm_none"],
        )


def is_cluster(members: Iterable[Matter], min_reporters: int) -> bool:
    """集中诉求: at least `min_reporters` different people about one matter."""
    return len({reporter_key(m) for m in members}) >= min_reporters


@dataclass(frozen=True)
class ClusterGrowth:
    """What a report does to clusters: `joining` (the report and the same-matter tickets not yet
    in a cluster) join `cluster_id`, or form a new cluster when it is None."""

    cluster_id: str | None
    joining: tuple[Matter, ...]


def cluster_growth(
    new: Matter, members: Sequence[Matter], min_reporters: int
) -> ClusterGrowth | None:
    """A report of the same matter as a clustered ticket joins that cluster (the most recent
    such ticket's, `members` being newest first), bringing the unclustered ones with it;
    otherwise the unclustered ones and the report form a cluster once `min_reporters`
    different people reported it; otherwise nothing happens."""
    loose = tuple(m for m in members if m.cluster_id is None)
    clustered = next((m.cluster_id for m in members if m.cluster_id is not None), None)
    if clustered is not None:
        return ClusterGrowth(clustered, (*loose, new))
    if is_cluster((*loose, new), min_reporters):
        return ClusterGrowth(None, (*loose, new))
    return None


# ---------------------------------------------------------------------------- admission (受理)


# The rule reads the unified form and the cached directory through these protocols, as they
# are: no copy of either is made per report on the hot path.


class CitizenFacts(Protocol):
    """Who reported, as the unified form states it (intake.schemas.CitizenIn)."""

    @property
    def name(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def anonymous(self) -> bool: ...


class PlaceFacts(Protocol):
    """Where a report says it happened: what its area is found from (`area_of`)."""

    @property
    def address(self) -> str | None: ...
    @property
    def area_code(self) -> str | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def latitude(self) -> float | None: ...


class ReportFacts(PlaceFacts, Protocol):
    """What admission reads of a report in the unified form (intake.schemas.TicketIn)."""

    @property
    def kind(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def citizen(self) -> CitizenFacts: ...


class Known(Protocol):
    """What a report is checked and placed against: the taxonomy and the gazetteer
    (intake.directory.Directory)."""

    @property
    def categories(self) -> frozenset[str]: ...
    @property
    def gazetteer(self) -> Gazetteer: ...


@dataclass(frozen=True)
class ChannelContext:
    """What the channel adapter knows beyond the unified report."""

    refs: Mapping[str, Any] = field(default_factory=dict)  # ids in the channel's own system
    message_id: str | None = None  # a retry with it is the same report
    identity: str | None = None  # who, when there is no phone (a Weibo handle, an e-mail)
    area_hint: str | None = None  # an area code the channel states (a grid worker's grid)
    area_text: str | None = None  # text to find the area in when there is no address
    category_source: str = "given"  # or "suggested" by the classification help
    reasons: list[str] = field(default_factory=list)  # why the category was suggested
    kind_source: str = "given"  # or "suggested", as the category's
    urgency_source: str = "given"


@dataclass(frozen=True)
class AdmissionRules:
    """The settings admission applies."""

    attachments: AttachmentRules
    citizen_ref_secret: str
    # The keyed blind index (intake.protection): who the citizen is, in intake's own tables.
    blind_index: Callable[[str | None], str | None]
    # The channel endpoints link repeats; the unified form only when configured to.
    link_repeats: bool


@dataclass(frozen=True)
class Admission:
    """What a valid report becomes (受理决定), before it is compared with open tickets."""

    # ANSWERED: a consultation answered on the spot (在线解答), closed at intake, never
    # dispatched; RECEIVED: a ticket for routing to dispatch.
    status: TicketStatus
    matter: Matter  # what the same-matter tests compare (no ticket id yet)
    phone: str | None  # normalised; None when anonymous or not given
    # The blind index of the phone or the channel identity: a citizen's tickets by it.
    citizen_index: str | None
    citizen_name: str | None
    anonymous: bool
    # Look for the citizen's own open ticket of the same matter to link this report to as a
    # repeat (重复诉求) instead of making a second ticket.
    may_repeat: bool
    # Count it toward a cluster (集中诉求): everything but an answer on the spot.
    may_cluster: bool

    @property
    def answered(self) -> bool:
        return self.status is TicketStatus.ANSWERED


def admit(
    report: ReportFacts,
    attachments: Sequence[Mapping[str, Any]],
    channel: ChannelContext,
    known: Known,
    rules: AdmissionRules,
) -> Admission:
    """受理: the decision on a report, or its refusal (InvalidInput naming the field).

    Refused, in this order: an answer on the spot for anything but a consultation, a category
    not in the taxonomy, bad coordinates, bad attachments, a phone that is not one. Otherwise
    it is answered on the spot when the operator gave an answer, else received for dispatch;
    its area is found by `area_of`; the citizen is the phone (unless anonymous) or the
    channel's identity; it may be a repeat when it is not answered, the citizen is known and
    the entry point links repeats; it counts toward clusters unless answered.
    """
    check_on_the_spot_answer(report.kind, report.answer)
    check_category(report.category, known.categories)
    check_coordinates(report.longitude, report.latitude, "longitude/latitude")
    check_attachments(attachments, rules.attachments)
    citizen = report.citizen
    phone = normalize_phone(citizen.phone) if citizen.phone and not citizen.anonymous else None
    who = phone or channel.identity
    text = f"{report.title}\n{report.description}"
    ref = citizen_ref(who, rules.citizen_ref_secret)
    matter = Matter(
        ticket_id="",
        category=report.category,
        area_code=area_of(report, channel, known),
        # Compared without the numbers and the name people type in (脱敏 first): they say who,
        # not what, and the terms are stored.
        terms=matter_terms(redact(text, [citizen.name]), known.gazetteer),
        longitude=report.longitude,
        latitude=report.latitude,
        citizen_ref=ref,
    )
    answered = report.answer is not None
    return Admission(
        status=TicketStatus.ANSWERED if answered else TicketStatus.RECEIVED,
        matter=matter,
        phone=phone,
        citizen_index=rules.blind_index(who),
        citizen_name=None if citizen.anonymous else citizen.name,
        anonymous=citizen.anonymous or phone is None,
        may_repeat=rules.link_repeats and not answered and ref is not None,
        may_cluster=not answered,
    )


def area_of(report: PlaceFacts, channel: ChannelContext, known: Known) -> str | None:
    """The report's area: the stated one, else the channel's if the gazetteer has it (a grid),
    else the deepest boundary containing the coordinates, else the gazetteer's names in the
    address, else in the channel's text."""
    if report.area_code:
        return report.area_code
    places = known.gazetteer
    if channel.area_hint and places.has(channel.area_hint):
        return channel.area_hint
    if report.longitude is not None and report.latitude is not None:
        lng, lat = report.longitude, report.latitude
        found = area_at(lng, lat, places.boundaries_near(lng, lat))
        if found:
            return found
    return resolve_area(report.address, places.areas_named_in(report.address)) or resolve_area(
        channel.area_text, places.areas_named_in(channel.area_text)
    )


def matter_terms(text: str, places: Gazetteer) -> tuple[str, ...]:
    """The words a report is compared by (`similarity.terms`), the place names it holds cut
    out: the place is compared as the area."""
    return tuple(similarity.terms(text, places.names_in(text)))


@dataclass(frozen=True)
class Classification:
    """A report's category, kind and urgency, and where the category came from."""

    category: str
    kind: str
    urgency: str
    source: str  # "given" by the channel, or "suggested" by the classification help
    reasons: list[str]  # why the category was suggested; empty when it was given
    kind_source: str = "given"  # the same for the kind
    urgency_source: str = "given"  # and for the urgency


def classification(
    category: str | None, kind: str | None, urgency: str | None, suggestion: Suggestion
) -> Classification:
    """分类 at intake: what the channel gave wins, the suggestion fills what it did not. A report
    without a category is refused when none could be suggested from its text. Where each
    came from is kept: what the suggestion filled in is no label to learn from."""
    kind_source = "given" if kind else "suggested"
    urgency_source = "given" if urgency else "suggested"
    kind, urgency = kind or suggestion.kind, urgency or suggestion.urgency
    if category:
        return Classification(category, kind, urgency, "given", [], kind_source, urgency_source)
    if suggestion.category is None:
        raise InvalidInput(
            "category: the channel gave none and none could be suggested from the text; "
            "send the report with a category.",
            field="category",
        )
    return Classification(
        suggestion.category,
        kind,
        urgency,
        "suggested",
        suggestion.reasons,
        kind_source,
        urgency_source,
    )


# ---------------------------------------------------------------------------- citizens' view

# Timeline lines a citizen does not see (internal supervision), or sees reworded.
CITIZEN_HIDDEN = frozenset(
    {
        "ticket.same_matter_confirmed",  # names another citizen's ticket
        "sla.breached",
        "ticket.cluster_flagged",
        "ticket.key_supervision",
        "ticket.supervised",
        "whistle.blown",
        "ticket.ownership_determined",
    }
)


def citizen_line(event_type: str, text: str) -> str | None:
    """A timeline line as the citizen reads it in the mini-program (None: not shown)."""
    if event_type in CITIZEN_HIDDEN:
        return None
    if event_type == "ticket.dispatched":
        return text.replace("（主办）", "，由其负责办理").replace("（协办）", "，协助办理")
    if event_type == "assignment.signed":
        return "承办单位已接单"
    if event_type == "callback.completed":
        return "已回访：" + text.removeprefix("回访完成：")
    return text
