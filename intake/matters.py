"""Where a new report looks for the same matter (同一诉求): bounded, indexed lookups.

A report is compared with the newest open tickets of its category at its place: the unclustered
ones, the newest members of each cluster there, and for repeats the citizen's own (by the blind
index of their phone or channel identity). Each lookup reads at most a fixed number of rows
through `ix_intake_tickets_matter` or `ix_intake_tickets_citizen_index`, so the cost of a
report does not grow with the tickets stored or with the size of a storm's cluster; a cluster
is joined through any of its recent members.

The statements are built once with bound parameters: building them per report cost more than
running them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.models import OPEN_TICKET, Cluster, Ticket
from shared.clock import aware

LOOSE_CANDIDATES = 200
CLUSTER_CANDIDATES = 20
OWN_CANDIDATES = 100

_tickets = Ticket.__table__
_clusters = Cluster.__table__
Among = Literal["loose", "cluster", "own"]


@cache
def _open_at_place(among: Among, area_known: bool) -> Select[Any]:
    """Open tickets of one category at one place since `since`, newest first."""
    t = _tickets.c
    place = t.area_code == bindparam("area_code") if area_known else t.area_code.is_(None)
    statement = select(
        t.id,
        t.category,
        t.area_code,
        t.terms,
        t.longitude,
        t.latitude,
        t.citizen_ref,
        t.received_at,
        t.cluster_id,
    ).where(
        t.category == bindparam("category"),
        place,
        OPEN_TICKET,
        t.received_at >= bindparam("since"),
    )
    if among == "loose":
        statement = statement.where(t.cluster_id.is_(None)).limit(LOOSE_CANDIDATES)
    elif among == "cluster":
        statement = statement.where(t.cluster_id == bindparam("cluster_id")).limit(
            CLUSTER_CANDIDATES
        )
    else:
        statement = statement.where(t.citizen_index == bindparam("citizen_index")).limit(
            OWN_CANDIDATES
        )
    return statement.order_by(t.received_at.desc())


@cache
def _clusters_at_place(area_known: bool) -> Select[Any]:
    c = _clusters.c
    place = c.area_code == bindparam("area_code") if area_known else c.area_code.is_(None)
    return select(c.id).where(
        c.category == bindparam("category"), place, c.updated_at >= bindparam("since")
    )


async def cluster_candidates(
    session: AsyncSession, *, category: str, area_code: str | None, since: datetime
) -> list[domain.Matter]:
    """Same-place tickets a new report may be the same matter as, newest first."""
    known = area_code is not None
    params: dict[str, Any] = {"category": category, "area_code": area_code, "since": since}
    rows = list(await session.execute(_open_at_place("loose", known), params))
    for cluster_id in (await session.scalars(_clusters_at_place(known), params)).all():
        rows.extend(
            await session.execute(
                _open_at_place("cluster", known), {**params, "cluster_id": cluster_id}
            )
        )
    rows.sort(key=lambda r: aware(r.received_at), reverse=True)
    return [matter_of(r) for r in rows]


async def own_open_matters(
    session: AsyncSession,
    *,
    citizen_index: str,
    category: str,
    area_code: str | None,
    since: datetime,
) -> list[domain.Matter]:
    """The citizen's own open tickets of one category at one place: what a repeat links to."""
    rows = await session.execute(
        _open_at_place("own", area_code is not None),
        {
            "category": category,
            "area_code": area_code,
            "since": since,
            "citizen_index": citizen_index,
        },
    )
    return [matter_of(r) for r in rows]


def matter_of(row: Row[Any] | Ticket) -> domain.Matter:
    """A stored ticket as the same-matter rules compare it: a row of the candidate queries, or
    the ticket itself."""
    return domain.Matter(
        ticket_id=row.id,
        category=row.category,
        area_code=row.area_code,
        terms=tuple((row.terms or "").split()),
        longitude=row.longitude,
        latitude=row.latitude,
        citizen_ref=row.citizen_ref,
        received_at=aware(row.received_at),
        cluster_id=row.cluster_id,
    )
