"""Channel adapters: each channel's native payload, as its gateway sends it, normalised into the
unified report (`TicketIn` fields) plus the channel's references. Pure functions.

A native payload may carry fields we do not use (gateways send what their system has); the
fields we use are checked and a bad one is named by its native name (`caller_number`, `gps.lat`).
Kind and category may be missing (a Weibo post has neither): `unify` then fills them from
intake's classification help, and gives the report to admission as the unified form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake import modelstore
from intake.classify import CategoryNode, suggest
from intake.config import settings
from intake.domain import ChannelContext, classification, normalize_phone, title_from
from intake.schemas import TicketIn
from shared.errors import InvalidInput
from shared.events.intake import TicketKind, Urgency


@dataclass(frozen=True)
class Normalised:
    """A channel report in the unified shape."""

    ticket: dict[str, Any]  # TicketIn fields; `kind`/`category` None → suggested
    refs: dict[str, Any]  # ids in the channel's own system (kept in intake, never in events)
    message_id: str | None  # the channel's message id: a retry with it is the same report
    identity: str | None = None  # who, when there is no phone (a Weibo handle, an e-mail)
    area_hint: str | None = None  # an area code the channel states (a grid worker's grid)
    area_text: str | None = None  # text to find the area in when there is no address


def invalid(exc: ValidationError, prefix: str = "") -> InvalidInput:
    """A pydantic error as a problem naming the field (in the channel's own names)."""
    errors = [
        {
            "field": prefix + ".".join(str(p) for p in e["loc"]) if e["loc"] else prefix or "body",
            "message": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return InvalidInput(summary, field=errors[0]["field"], errors=errors)


class _Native(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Media(_Native):
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    size: int
    url: str | None = Field(default=None, max_length=1000)
    sha256: str | None = Field(default=None, max_length=64)


Text = Field(min_length=1, max_length=4000)
Title = Field(min_length=1, max_length=100)
Id = Field(min_length=1, max_length=128)


class Location(_Native):
    address: str | None = Field(default=None, max_length=300)
    longitude: float | None = None
    latitude: float | None = None


class PhoneCall(_Native):
    """12345 hotline: the operator's form for one call (话务工单)."""

    call_id: str = Id
    caller_number: str = Field(min_length=1, max_length=32)
    recording_ref: str | None = Field(default=None, max_length=300)
    operator_id: str = Id
    caller_name: str | None = Field(default=None, max_length=32)
    anonymous: bool = False
    kind: TicketKind | None = None
    category: str | None = Field(default=None, max_length=200)
    urgency: Urgency | None = None
    title: str = Title
    content: str = Text
    address: str | None = Field(default=None, max_length=300)
    longitude: float | None = None
    latitude: float | None = None


class WebForm(_Native):
    """The city website's form (门户网站)."""

    form_id: str = Id
    name: str | None = Field(default=None, max_length=32)
    phone: str = Field(min_length=1, max_length=32)
    kind: TicketKind | None = None
    category: str | None = Field(default=None, max_length=200)
    title: str = Title
    content: str = Text
    address: str | None = Field(default=None, max_length=300)
    attachments: list[Media] = Field(default_factory=list)


class AppReport(_Native):
    """The city's mobile app (政务App)."""

    report_id: str = Id
    user_id: str = Id
    phone: str = Field(min_length=1, max_length=32)
    name: str | None = Field(default=None, max_length=32)
    kind: TicketKind | None = None
    category: str | None = Field(default=None, max_length=200)
    title: str = Title
    content: str = Text
    location: Location | None = None
    images: list[Media] = Field(default_factory=list)


class WechatMessage(_Native):
    """The WeChat mini-program (微信小程序): the citizen is known by openid and a bound phone."""

    msg_id: str = Id
    openid: str = Id
    phone: str = Field(min_length=1, max_length=32)
    real_name: str | None = Field(default=None, max_length=32)
    kind: TicketKind | None = None
    category: str | None = Field(default=None, max_length=200)
    title: str = Title
    content: str = Text
    location: Location | None = None
    media: list[Media] = Field(default_factory=list)


class SocialPost(_Native):
    """Weibo and other social media (微博、抖音 …): a public post found or @-mentioned."""

    post_id: str = Id
    platform: str = Field(default="weibo", min_length=1, max_length=32)
    author_handle: str = Id
    url: str = Field(min_length=1, max_length=1000)
    text: str = Text
    posted_at: datetime | None = None
    location_text: str | None = Field(default=None, max_length=300)
    images: list[Media] = Field(default_factory=list)


class BoardThread(_Native):
    """The leaders' message board (人民网地方领导留言板)."""

    thread_id: str = Id
    user_id: str = Id
    subject: str = Title
    content: str = Text
    leader: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    area_text: str | None = Field(default=None, max_length=300)
    posted_at: datetime | None = None


class MailboxMessage(_Native):
    """The mayor's mailbox (市长信箱)."""

    message_id: str = Id
    sender_address: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sender_name: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    subject: str = Title
    body: str = Text
    address: str | None = Field(default=None, max_length=300)


class SmsMessage(_Native):
    """An SMS to the hotline's short number."""

    sms_id: str = Id
    from_number: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=1000)


class OpinionItem(_Native):
    """Public-opinion monitoring (政务舆情): a news or forum item picked up by the monitor."""

    item_id: str = Id
    source: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=1000)
    headline: str = Title
    summary: str = Text
    heat: int | None = Field(default=None, ge=0)
    address: str | None = Field(default=None, max_length=300)


class Gps(_Native):
    lng: float
    lat: float


class GridReport(_Native):
    """A grid worker's report from the street (网格员巡查上报): photos, GPS, grid."""

    report_id: str = Id
    grid_id: str = Field(min_length=1, max_length=32)
    worker_id: str = Id
    kind: TicketKind = "report"
    category: str | None = Field(default=None, max_length=200)
    urgency: Urgency | None = None
    title: str = Title
    description: str = Text
    gps: Gps | None = None
    address: str | None = Field(default=None, max_length=300)
    photos: list[Media] = Field(default_factory=list)


class Open311Request(_Native):
    """Open311 GeoReport v2 `POST requests` (form fields)."""

    service_code: str = Field(min_length=1, max_length=32)
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(default=None, max_length=300)
    address_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    device_id: str | None = Field(default=None, max_length=128)
    account_id: str | None = Field(default=None, max_length=128)
    first_name: str | None = Field(default=None, max_length=16)
    last_name: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=32)
    description: str = Text
    media_url: str | None = Field(default=None, max_length=1000)


def _media(items: list[Media]) -> list[dict[str, Any]]:
    return [m.model_dump(exclude_none=True) for m in items]


def _citizen(
    phone: str | None, name: str | None, field: str, anonymous: bool = False
) -> dict[str, Any]:
    if phone:
        phone = normalize_phone(phone, field=field)
    if anonymous or not phone:
        return {"anonymous": True}
    return {"name": name, "phone": phone, "anonymous": False}


def _phone(p: PhoneCall) -> Normalised:
    return Normalised(
        ticket={
            "channel": "phone",
            "kind": p.kind,
            "category": p.category,
            "urgency": p.urgency,
            "title": p.title,
            "description": p.content,
            "address": p.address,
            "longitude": p.longitude,
            "latitude": p.latitude,
            "citizen": _citizen(p.caller_number, p.caller_name, "caller_number", p.anonymous),
        },
        refs={"call_id": p.call_id, "recording_ref": p.recording_ref, "operator_id": p.operator_id},
        message_id=p.call_id,
    )


def _web(p: WebForm) -> Normalised:
    return Normalised(
        ticket={
            "channel": "web",
            "kind": p.kind,
            "category": p.category,
            "title": p.title,
            "description": p.content,
            "address": p.address,
            "citizen": _citizen(p.phone, p.name, "phone"),
            "attachments": _media(p.attachments),
        },
        refs={"form_id": p.form_id},
        message_id=p.form_id,
    )


def _app(p: AppReport) -> Normalised:
    where = p.location or Location()
    return Normalised(
        ticket={
            "channel": "app",
            "kind": p.kind,
            "category": p.category,
            "title": p.title,
            "description": p.content,
            "address": where.address,
            "longitude": where.longitude,
            "latitude": where.latitude,
            "citizen": _citizen(p.phone, p.name, "phone"),
            "attachments": _media(p.images),
        },
        refs={"report_id": p.report_id, "user_id": p.user_id},
        message_id=p.report_id,
    )


def _wechat(p: WechatMessage) -> Normalised:
    where = p.location or Location()
    return Normalised(
        ticket={
            "channel": "wechat",
            "kind": p.kind,
            "category": p.category,
            "title": p.title,
            "description": p.content,
            "address": where.address,
            "longitude": where.longitude,
            "latitude": where.latitude,
            "citizen": _citizen(p.phone, p.real_name, "phone"),
            "attachments": _media(p.media),
        },
        refs={"msg_id": p.msg_id, "openid": p.openid},
        message_id=p.msg_id,
    )


def _weibo(p: SocialPost) -> Normalised:
    return Normalised(
        ticket={
            "channel": "weibo",
            "kind": None,
            "category": None,
            "title": title_from(p.text),
            "description": p.text,
            "address": p.location_text,
            "citizen": {"anonymous": True},
            "attachments": _media(p.images),
        },
        refs={
            "platform": p.platform,
            "post_id": p.post_id,
            "author_handle": p.author_handle,
            "url": p.url,
            "posted_at": p.posted_at.isoformat() if p.posted_at else None,
        },
        message_id=f"{p.platform}:{p.post_id}",
        area_text=p.text,
        identity=f"{p.platform}:{p.author_handle}",
    )


def _board(p: BoardThread) -> Normalised:
    return Normalised(
        ticket={
            "channel": "message_board",
            "kind": None,
            "category": None,
            "title": p.subject,
            "description": p.content,
            "address": p.area_text,
            "citizen": _citizen(p.phone, None, "phone"),
        },
        refs={"thread_id": p.thread_id, "user_id": p.user_id, "leader": p.leader},
        message_id=p.thread_id,
        area_text=f"{p.subject} {p.content}",
        identity=f"board:{p.user_id}",
    )


def _mailbox(p: MailboxMessage) -> Normalised:
    return Normalised(
        ticket={
            "channel": "mayor_mailbox",
            "kind": None,
            "category": None,
            "title": p.subject,
            "description": p.body,
            "address": p.address,
            "citizen": _citizen(p.phone, p.sender_name, "phone"),
        },
        refs={"message_id": p.message_id},
        message_id=p.message_id,
        area_text=f"{p.subject} {p.body}",
        identity=f"mail:{p.sender_address.lower()}",
    )


def _sms(p: SmsMessage) -> Normalised:
    return Normalised(
        ticket={
            "channel": "sms",
            "kind": None,
            "category": None,
            "title": title_from(p.text),
            "description": p.text,
            "address": None,
            "citizen": _citizen(p.from_number, None, "from_number"),
        },
        refs={"sms_id": p.sms_id},
        message_id=p.sms_id,
        area_text=p.text,
    )


def _opinion(p: OpinionItem) -> Normalised:
    return Normalised(
        ticket={
            "channel": "opinion",
            "kind": None,
            "category": None,
            "title": p.headline,
            "description": p.summary,
            "address": p.address,
            "citizen": {"anonymous": True},
        },
        refs={"item_id": p.item_id, "source": p.source, "url": p.url, "heat": p.heat},
        message_id=p.item_id,
        area_text=f"{p.headline} {p.summary}",
    )


def _grid(p: GridReport) -> Normalised:
    return Normalised(
        ticket={
            "channel": "grid",
            "kind": p.kind,
            "category": p.category,
            "urgency": p.urgency,
            "title": p.title,
            "description": p.description,
            "address": p.address,
            "longitude": p.gps.lng if p.gps else None,
            "latitude": p.gps.lat if p.gps else None,
            "citizen": {"anonymous": True},  # found on patrol: no citizen to call back
            "attachments": _media(p.photos),
        },
        refs={"report_id": p.report_id, "grid_id": p.grid_id, "worker_id": p.worker_id},
        message_id=p.report_id,
        area_hint=p.grid_id,
    )


def _open311(p: Open311Request, categories_by_code: Mapping[str, str]) -> Normalised:
    category = categories_by_code.get(p.service_code)
    if category is None:
        raise InvalidInput(
            f"service_code: '{p.service_code}' is not a service (GET /open311/v2/services).",
            field="service_code",
        )
    name = "".join(filter(None, (p.last_name, p.first_name))) or None
    return Normalised(
        ticket={
            "channel": "open311",
            "kind": None,
            "category": category,
            "title": title_from(p.description),
            "description": p.description,
            "address": p.address_string,
            "longitude": p.long,
            "latitude": p.lat,
            "citizen": _citizen(p.phone, name, "phone"),
        },
        refs={
            "service_code": p.service_code,
            "address_id": p.address_id,
            "device_id": p.device_id,
            "account_id": p.account_id,
            "media_url": p.media_url,
        },
        message_id=None,
        identity=f"open311:{p.email.lower()}" if p.email else None,
    )


NATIVE: dict[str, type[_Native]] = {
    "phone": PhoneCall,
    "web": WebForm,
    "app": AppReport,
    "wechat": WechatMessage,
    "weibo": SocialPost,
    "message_board": BoardThread,
    "mayor_mailbox": MailboxMessage,
    "sms": SmsMessage,
    "opinion": OpinionItem,
    "grid": GridReport,
    "open311": Open311Request,
}

_NORMALISERS: dict[str, Callable[..., Normalised]] = {
    "phone": _phone,
    "web": _web,
    "app": _app,
    "wechat": _wechat,
    "weibo": _weibo,
    "message_board": _board,
    "mayor_mailbox": _mailbox,
    "sms": _sms,
    "opinion": _opinion,
    "grid": _grid,
}


def normalise(
    channel: str, native: Any, *, categories_by_code: Mapping[str, str] | None = None
) -> Normalised:
    """A channel's native payload as the unified report; bad input is named by native field."""
    model = NATIVE.get(channel)
    if model is None:
        raise InvalidInput(
            f"channel: unknown channel '{channel}'; known: {', '.join(NATIVE)}.", field="channel"
        )
    if not isinstance(native, Mapping):
        raise InvalidInput("body: send the channel's payload as a JSON object.", field="body")
    try:
        parsed = model.model_validate(native)
    except ValidationError as exc:
        raise invalid(exc) from None
    if isinstance(parsed, Open311Request):
        return _open311(parsed, categories_by_code or {})
    return _NORMALISERS[channel](parsed)


def unify(
    normalised: Normalised, taxonomy: Iterable[CategoryNode]
) -> tuple[TicketIn, ChannelContext]:
    """The normalised report as the unified form, what the channel did not give filled from the
    classification help's suggestion (`domain.classification`), and what the channel knew
    besides."""
    fields = dict(normalised.ticket)
    # The learned models in use, if any, as the operators' suggestion has (docs/suggestions.md).
    suggestion = suggest(
        fields["title"],
        fields["description"],
        taxonomy,
        modelstore.all_in_use(),
        min_confidence=settings().suggestion_min_confidence,
    )
    chosen = classification(
        fields.get("category"), fields.get("kind"), fields.get("urgency"), suggestion
    )
    fields.update(category=chosen.category, kind=chosen.kind, urgency=chosen.urgency)
    try:
        report = TicketIn.model_validate(fields)
    except ValidationError as exc:
        raise invalid(exc) from None
    return report, ChannelContext(
        refs=normalised.refs,
        message_id=normalised.message_id,
        identity=normalised.identity,
        area_hint=normalised.area_hint,
        area_text=normalised.area_text,
        category_source=chosen.source,
        reasons=chosen.reasons,
        kind_source=chosen.kind_source,
        urgency_source=chosen.urgency_source,
    )
