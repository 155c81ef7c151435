"""Same-matter candidates (同一诉求候选) for the report an operator is typing: the open tickets
it most likely repeats or joins, best first, for the operator to confirm one (the report's
`same_matter_of`) or none. The rule is intake/candidates.py; this is its route."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from intake import candidates, domain, protection, reads
from intake.config import settings
from intake.directory import current as current_directory
from intake.models import Ticket
from intake.schemas import CitizenIn, SameMatterCandidateOut, SameMatterIn, SameMatterOut
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.problems import AUTHENTICATED, problem_responses
from shared.redaction import redact
from shared.runtime import current_time, session_dependency
from shared.settings import platform_settings

router = APIRouter(
    prefix="/api/v1/same-matter", tags=["intake"], responses=problem_responses(*AUTHENTICATED)
)
Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
SUMMARY_CHARS = 80


@router.post("/candidates", response_model=SameMatterOut, responses=problem_responses(413))
async def same_matter_candidates(
    draft: SameMatterIn, session: Session, now: Now, who: Reader
) -> SameMatterOut:
    """operator, supervisor: the open tickets (at most five, best first) the report being
    typed may be the same matter as: the same category, in the same area (resolved from the
    address or coordinates as at admission), within `INTAKE_SAME_PLACE_METRES`, and similar
    enough in text. The caller's own tickets (`citizen.phone`) are strong evidence: they need
    half the threshold and rank first among equals. Titles and summaries are redacted (脱敏).
    Confirming one is the report's `same_matter_of`."""
    config = settings()
    known = await current_directory(session)
    domain.check_category(draft.category, known.categories)
    domain.check_coordinates(draft.longitude, draft.latitude, "longitude/latitude")
    phone = _phone(draft.citizen)
    area_code = domain.area_of(draft, domain.ChannelContext(), known)
    matter = candidates.matter_of(
        draft.title,
        draft.description,
        category=draft.category,
        area_code=area_code,
        places=known.gazetteer,
        names=[draft.citizen.name] if draft.citizen else [],
        citizen_ref=domain.citizen_ref(phone, platform_settings().citizen_ref_secret),
        longitude=draft.longitude,
        latitude=draft.latitude,
    )
    found = await candidates.candidates(
        session,
        matter,
        since=now - timedelta(days=config.cluster_window_days),
        threshold=config.same_matter_threshold,
        metres=config.same_place_metres,
        citizen_index=protection.blind_index(phone),
        own_since=now - timedelta(days=config.repeat_window_days),
    )
    tickets = await reads.tickets_by_id(session, [c.ticket_id for c in found])
    return SameMatterOut(
        area_code=area_code,
        threshold=config.same_matter_threshold,
        candidates=[_shown(c, tickets[c.ticket_id]) for c in found if c.ticket_id in tickets],
    )


def _phone(citizen: CitizenIn | None) -> str | None:
    """The caller's phone, normalised as admission does (None when anonymous or not given)."""
    if citizen is None or citizen.anonymous or not citizen.phone:
        return None
    return domain.normalize_phone(citizen.phone)


def _shown(candidate: candidates.Candidate, ticket: Ticket) -> SameMatterCandidateOut:
    names = [ticket.citizen_name]
    summary = redact(ticket.description, names)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return SameMatterCandidateOut(
        ticket_id=ticket.id,
        score=round(candidate.score, 4),
        same_citizen=candidate.same_citizen,
        cluster_id=candidate.cluster_id,
        title=redact(ticket.title, names),
        summary=summary,
        status=ticket.status,
        status_text=domain.STATUS_TEXT[ticket.status],
        category=ticket.category,
        area_code=ticket.area_code,
        received_at=china_time(ticket.received_at),
    )
