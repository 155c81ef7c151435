"""Same-matter candidates for an operator to confirm (同一诉求候选): instead of linking on weak
evidence, show the five open tickets a report most likely repeats or joins, with their scores.

The tickets looked at are the bounded, indexed ones a report is compared with anyway
(`matters.cluster_candidates`: the same category at the same place, open, within the window),
so this costs what admission's comparison costs. A candidate must be within the distance where
both have coordinates and score at least the threshold; the same citizen is strong evidence,
so their own tickets need only `OWN_SHARE` of it, and rank first among equals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain, matters
from intake.gazetteer import Gazetteer
from shared.redaction import redact

TOP = 5
OWN_SHARE = 0.5  # the same citizen's ticket needs half the threshold


@dataclass(frozen=True)
class Candidate:
    ticket_id: str
    score: float
    same_citizen: bool
    cluster_id: str | None


def ranked(
    new: domain.Matter,
    olds: Iterable[domain.Matter],
    *,
    threshold: float,
    metres: float,
    top: int = TOP,
) -> list[Candidate]:
    """The best `top` candidates among `olds`, best first (pure)."""
    found = []
    for old in olds:
        if old.ticket_id == new.ticket_id:
            continue
        own = bool(new.citizen_ref) and old.citizen_ref == new.citizen_ref
        score = domain.same_matter(
            new, old, threshold=threshold * (OWN_SHARE if own else 1.0), metres=metres
        )
        if score is not None:
            found.append(Candidate(old.ticket_id, score, own, old.cluster_id))
    found.sort(key=lambda c: (-c.score, not c.same_citizen, c.ticket_id))
    return found[:top]


async def candidates(
    session: AsyncSession,
    new: domain.Matter,
    *,
    since: datetime,
    threshold: float,
    metres: float,
    citizen_index: str | None = None,
    own_since: datetime | None = None,
    top: int = TOP,
) -> list[Candidate]:
    """The open tickets `new` may be the same matter as, best first, for the operator: those a
    cluster would be looked for among (since `since`), and with `citizen_index` the caller's own
    that a repeat would be (since `own_since`)."""
    olds: Sequence[domain.Matter] = await matters.cluster_candidates(
        session, category=new.category, area_code=new.area_code, since=since
    )
    if citizen_index is not None:
        seen = {m.ticket_id for m in olds}
        own = await matters.own_open_matters(
            session,
            citizen_index=citizen_index,
            category=new.category,
            area_code=new.area_code,
            since=own_since or since,
        )
        olds = [*olds, *(m for m in own if m.ticket_id not in seen)]
    return ranked(new, olds, threshold=threshold, metres=metres, top=top)


def matter_of(
    title: str,
    description: str,
    *,
    category: str,
    area_code: str | None,
    places: Gazetteer,
    names: Iterable[str | None] = (),
    citizen_ref: str | None = None,
    longitude: float | None = None,
    latitude: float | None = None,
) -> domain.Matter:
    """A report not yet filed as the matter it would be compared as (as `domain.admit` does:
    redacted, place names cut out)."""
    text = redact(f"{title}\n{description}", names)
    return domain.Matter(
        ticket_id="",
        category=category,
        area_code=area_code,
        terms=domain.matter_terms(text, places),
        longitude=longitude,
        latitude=latitude,
        citizen_ref=citizen_ref,
    )
