"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under `/open311/v2/`.

Services are the taxonomy's leaves (service_code = the category's code). `POST requests` needs
an `api_key` (INTAKE_OPEN311_API_KEYS maps each key to the gateway it stands for). Every answer
is JSON or XML by the path's `.json`/`.xml`, errors included, in the spec's error format
(`[{"code": 400, "description": "…"}]`).

Reads are public (no key), so they publish only what may be published:
- only the tickets of `INTAKE_OPEN311_PUBLIC_CHANNELS` (Open311 itself by default): a citizen
  who reports through a GeoReport client reports in public, one who calls 12345 or sends an SMS
  does not, and their tickets are not listed, nor found by id or token (404, as for an unknown
  one);
- only the spec's public fields: service, status, datetimes, the agency, the description and
  address redacted (脱敏: phones, ID-card and bank-card numbers, the citizen's name), the
  coordinates to three decimals (about 100 m). Never the citizen, the channel's ids, the
  timeline or internal notes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import admission, channels, domain, idempotency, taxonomy
from intake.config import settings
from intake.models import Category, Ticket
from shared.auth import Principal, Role
from shared.clock import china_time
from shared.errors import DomainError, InvalidInput, NotFound
from shared.problems import problem_responses
from shared.redaction import redact, redact_optional
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/open311/v2", tags=["intake: Open311 GeoReport v2"])

Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]

FORMATS = ("json", "xml")
# Open311's "closed": handled, the citizen has an answer (on the spot, or the unit's reply).
CLOSED = frozenset(
    {domain.TicketStatus.ANSWERED, domain.TicketStatus.REPLIED, domain.TicketStatus.CLOSED}
)
DEFAULT_DAYS = 90
MAX_RESULTS = 1000


# How Open311's errors are documented: its own error list, in the format the path names.
ERROR_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
TITLES = {400: "Bad request", 403: "Forbidden (api_key)", 404: "Not found"}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for Open311's errors: `[{"code": …, "description": …}]` in JSON, or
    `<errors><error>…` in XML (not problem+json: GeoReport v2 clients read this)."""
    return {
        status: {
            "description": TITLES[status],
            "content": {
                "application/json": {"schema": ERROR_LIST},
                "text/xml": {"schema": {"type": "string"}},
            },
        }
        for status in statuses
    }


class BadRequest(DomainError):
    status = 400
    title = "Bad request"


class Forbidden311(DomainError):
    status = 403
    title = "Forbidden"


# ---------------------------------------------------------------------------- rendering


def _xml(root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(element, key)
            if isinstance(value, list):
                for entry in value:
                    sub = ET.SubElement(child, "attribute")
                    for k, v in entry.items():
                        ET.SubElement(sub, k).text = _text(v)
            else:
                child.text = _text(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(
    fmt: str, root: str, item: str, rows: Sequence[Mapping[str, Any]], status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(
            _xml(root, item, rows), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return JSONResponse(list(rows), status_code=status)


def error(fmt: str, status: int, description: str) -> Response:
    return render(
        fmt if fmt in FORMATS else "json",
        "errors",
        "error",
        [{"code": status, "description": description}],
        status,
    )


async def answer(fmt: str, produce: Callable[[], Awaitable[Response]]) -> Response:
    """Run an endpoint; domain errors in the spec's error format (400, 403, 404)."""
    if fmt not in FORMATS:
        return error("json", 400, f"format: '{fmt}' is not supported; use json or xml.")
    try:
        return await produce()
    except DomainError as exc:
        status = exc.status if exc.status in (400, 401, 403, 404) else 400
        return error(fmt, status, exc.detail)


def _iso(value: datetime | None) -> str | None:
    return china_time(value).isoformat() if value else None


def _request_row(ticket: Ticket, codes: Mapping[str, str]) -> dict[str, Any]:
    """A ticket as the public reads it: GeoReport v2's fields, personal data redacted."""
    refs = ticket.channel_refs or {}
    name = [ticket.citizen_name]
    return {
        "service_request_id": ticket.id,
        "status": "closed" if ticket.status in CLOSED else "open",
        "status_notes": domain.STATUS_TEXT[ticket.status],
        "service_name": ticket.category.rsplit("/", 1)[-1],
        "service_code": codes.get(ticket.category),
        "description": redact(ticket.description, name),
        "agency_responsible": ticket.lead_unit_name,
        "service_notice": None,
        "requested_datetime": _iso(ticket.received_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(ticket.expected_at),
        "address": redact_optional(ticket.address, name),
        "address_id": refs.get("address_id"),
        "zipcode": None,
        "lat": _coarse(ticket.latitude),
        "long": _coarse(ticket.longitude),
        # The picture the GeoReport client published with the request.
        "media_url": refs.get("media_url"),
    }


def _coarse(degrees: float | None) -> float | None:
    """A coordinate to three decimals (about 100 m): the place, not the doorstep."""
    return None if degrees is None else round(degrees, 3)


def _public() -> list[str]:
    return settings().open311_public_channels


async def _published(session: AsyncSession, ticket_id: str) -> Ticket | None:
    """The ticket, if the public may read it."""
    ticket = await session.get(Ticket, ticket_id)
    return ticket if ticket is not None and ticket.channel in _public() else None


async def _codes(session: AsyncSession) -> dict[str, str]:
    return {c.path: c.code for c in await taxonomy.categories(session)}


def _leaves(categories: Sequence[Category]) -> list[Category]:
    parents = {c.parent_path for c in categories}
    return [c for c in categories if c.path not in parents]


def _service_row(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.path.replace("/", " › "),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(filter(None, category.keywords.split("|"))),
        "group": category.path.split("/", 1)[0],
    }


# ---------------------------------------------------------------------------- endpoints


@router.get("/services.{fmt}", responses=errors(400))
async def services(fmt: str, session: Session) -> Response:
    """public: the service list (the taxonomy's leaves)."""

    async def produce() -> Response:
        rows = [_service_row(c) for c in _leaves(await taxonomy.categories(session))]
        return render(fmt, "services", "service", rows)

    return await answer(fmt, produce)


@router.get("/services/{code}.{fmt}", responses=errors(400, 404))
async def service_definition(code: str, fmt: str, session: Session) -> Response:
    """public: one service's definition (no extra attributes: `metadata` is false)."""

    async def produce() -> Response:
        category = await session.scalar(select(Category).where(Category.code == code))
        if category is None or category not in _leaves(await taxonomy.categories(session)):
            raise NotFound(f"service_code '{code}' is not a service.")
        row = {"service_code": category.code, "attributes": []}
        return render_one(fmt, "service_definition", row)

    return await answer(fmt, produce)


def render_one(fmt: str, root: str, row: Mapping[str, Any]) -> Response:
    if fmt == "xml":
        top = ET.Element(root)
        for key, value in row.items():
            child = ET.SubElement(top, key)
            if not isinstance(value, list):
                child.text = _text(value)
        return Response(
            ET.tostring(top, encoding="utf-8", xml_declaration=True),
            media_type="text/xml; charset=utf-8",
        )
    return JSONResponse(dict(row))


@router.post(
    "/requests.{fmt}", status_code=201, responses={**errors(400, 403), **problem_responses(413)}
)
async def create_request(fmt: str, request: Request, session: Session, now: Now) -> Response:
    """gateway (by `api_key`): create a service request from form fields."""

    async def produce() -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        who = _gateway(fields.pop("api_key", None))
        fields.pop("jurisdiction_id", None)
        native = {k: v for k, v in fields.items() if not k.startswith("attribute[")}
        if not native.get("service_code"):
            raise BadRequest("service_code: required.")
        if not (
            (native.get("lat") and native.get("long"))
            or native.get("address_string")
            or native.get("address_id")
        ):
            raise BadRequest("location: give lat and long, address_string or address_id.")
        try:
            codes = await taxonomy.paths_by_code(session)
            tree = await taxonomy.taxonomy(session)
            await session.rollback()
            report, context = channels.unify(
                channels.normalise("open311", native, categories_by_code=codes), tree
            )
            submission = admission.Submission(
                report,
                sender=who.subject,
                channel=context,
                idempotency_key=request.headers.get("Idempotency-Key"),
                body_hash=idempotency.request_hash(native),
            )
            accepted = await admission.accept(session, submission, now=now)
        except InvalidInput as exc:
            raise BadRequest(exc.detail) from None
        row = {
            "service_request_id": accepted.ticket.id,
            "token": _token(accepted.ticket.id),
            "service_notice": "已受理，可凭工单号查询办理进度。",
            "account_id": native.get("account_id"),
        }
        return render(fmt, "service_requests", "request", [row], 201)

    return await answer(fmt, produce)


@router.get("/requests.{fmt}", responses=errors(400))
async def requests(fmt: str, request: Request, session: Session, now: Now) -> Response:
    """public: service requests, filtered by `service_request_id` (comma-separated; the other
    filters are then ignored), `service_code`, `start_date`, `end_date` (W3C datetimes) and
    `status` (open, closed); by default the last 90 days, at most 1000. Only the published
    channels' tickets (INTAKE_OPEN311_PUBLIC_CHANNELS), with their public fields."""

    async def produce() -> Response:
        params = request.query_params
        codes = await _codes(session)
        query = (
            select(Ticket)
            .where(Ticket.channel.in_(_public()))
            .order_by(Ticket.received_at.desc())
            .limit(MAX_RESULTS)
        )
        if params.get("service_request_id"):
            ids = [i.strip() for i in params["service_request_id"].split(",") if i.strip()]
            query = query.where(Ticket.id.in_(ids))
        else:
            start = _date(params.get("start_date"), "start_date")
            end = _date(params.get("end_date"), "end_date")
            if start and end and start > end:
                raise BadRequest("start_date: after end_date.")
            if start is None:
                start = (end or now) - timedelta(days=DEFAULT_DAYS)
            query = query.where(Ticket.received_at >= start)
            if end:
                query = query.where(Ticket.received_at <= end)
            if params.get("service_code"):
                wanted = [c.strip() for c in params["service_code"].split(",")]
                by_code = {code: path for path, code in codes.items()}
                unknown = [c for c in wanted if c not in by_code]
                if unknown:
                    raise BadRequest(f"service_code: unknown '{unknown[0]}'.")
                query = query.where(Ticket.category.in_([by_code[c] for c in wanted]))
            if params.get("status"):
                statuses = {s.strip() for s in params["status"].split(",")}
                if not statuses <= {"open", "closed"}:
                    raise BadRequest("status: use open or closed.")
                if statuses == {"open"}:
                    query = query.where(Ticket.status.not_in(CLOSED))
                elif statuses == {"closed"}:
                    query = query.where(Ticket.status.in_(CLOSED))
        rows = [_request_row(t, codes) for t in (await session.scalars(query)).all()]
        return render(fmt, "service_requests", "request", rows)

    return await answer(fmt, produce)


@router.get("/requests/{request_id}.{fmt}", responses=errors(400, 404))
async def one_request(request_id: str, fmt: str, session: Session) -> Response:
    """public: one service request (of a published channel)."""

    async def produce() -> Response:
        ticket = await _published(session, request_id)
        if ticket is None:
            raise NotFound(f"service_request_id '{request_id}' does not exist.")
        return render(
            fmt, "service_requests", "request", [_request_row(ticket, await _codes(session))]
        )

    return await answer(fmt, produce)


@router.get("/tokens/{token}.{fmt}", responses=errors(400, 404))
async def token(token: str, fmt: str, session: Session) -> Response:
    """public: the service request a token from `POST requests` stands for."""

    async def produce() -> Response:
        ticket_id = token.removeprefix("T-")
        if not token.startswith("T-") or await _published(session, ticket_id) is None:
            raise NotFound(f"token '{token}' does not exist.")
        row = {"service_request_id": ticket_id, "token": token}
        return render(fmt, "service_requests", "request", [row])

    return await answer(fmt, produce)


def _token(ticket_id: str) -> str:
    return f"T-{ticket_id}"


def _gateway(api_key: str | None) -> Principal:
    if not api_key:
        raise Forbidden311("api_key: required to create a request.")
    name = settings().open311_api_keys.get(api_key)
    if name is None:
        raise Forbidden311("api_key: not valid.")
    return Principal(subject=name, role=Role.GATEWAY)


def _date(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{field}: '{raw}' is not a W3C datetime (2026-11-23T10:00:00+08:00)."
        ) from None
    if value.tzinfo is None:
        raise BadRequest(f"{field}: give the offset (+08:00 or Z).")
    return value
