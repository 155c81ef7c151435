"""Clusters (集中诉求) kept in place: a report forms the cluster it completes or joins the one it
belongs to, with one row per matter (`size`, `reporters`) and one per reporter, so the work and
the event stay the same size however large a storm's cluster grows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Insert, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain, matters
from intake.config import settings
from intake.models import Cluster, ClusterReporter, Ticket, TimelineEntry, outbox
from shared.db import dialect_name, insert_in
from shared.events.intake import ClusterFlagged


@dataclass(frozen=True)
class JoinedCluster:
    """A cluster as a report left it: formed or grown, with the tickets that joined."""

    cluster_id: str
    joined: list[str]
    size: int
    reporters: int
    category: str
    area_code: str | None


async def join(
    session: AsyncSession, matter: domain.Matter, *, now: datetime, confirmed: str | None = None
) -> JoinedCluster | None:
    """Form the cluster the report completes or grow the one it belongs to, in place: the work
    stays the same however many reports the cluster already has. `confirmed`: the ticket an
    operator confirmed as the same matter counts as a member if it is among the candidates."""
    config = settings()
    candidates = await matters.cluster_candidates(
        session,
        category=matter.category,
        area_code=matter.area_code,
        since=now - timedelta(days=config.cluster_window_days),
    )
    members = domain.cluster_members(
        matter,
        candidates,
        threshold=config.same_matter_threshold,
        metres=config.same_place_metres,
        confirmed=confirmed,
    )
    growth = domain.cluster_growth(matter, members, config.cluster_min_reporters)
    if growth is None:
        return None
    joined = [m.ticket_id for m in growth.joining]
    if growth.cluster_id is None:
        cluster_id = "K" + matter.ticket_id
        size, reporters = len(joined), len({domain.reporter_key(m) for m in growth.joining})
        session.add(
            Cluster(
                id=cluster_id,
                category=matter.category,
                area_code=matter.area_code,
                size=size,
                reporters=reporters,
                flagged_at=now,
                updated_at=now,
            )
        )
        await _new_reporters(session, cluster_id, growth.joining)
    else:
        cluster_id = growth.cluster_id
        new_reporters = await _new_reporters(session, cluster_id, growth.joining)
        size, reporters = (
            await session.execute(
                _GROW,
                {"cluster": cluster_id, "joined": len(joined), "added": new_reporters, "now": now},
            )
        ).one()
    earlier = [t for t in joined if t != matter.ticket_id]
    if earlier:
        await session.execute(
            update(Ticket)
            .where(Ticket.id.in_(earlier), Ticket.cluster_id.is_(None))
            .values(cluster_id=cluster_id)
            .execution_options(synchronize_session=False)
        )
    return JoinedCluster(cluster_id, joined, size, reporters, matter.category, matter.area_code)


async def flag(
    session: AsyncSession, cluster: JoinedCluster, *, ticket_id: str, now: datetime
) -> TimelineEntry:
    """Tell supervision who joined (after `ticket.received`, which consumers must see first);
    `ticket_id` is the report that formed or grew the cluster."""
    await outbox.emit(
        session,
        ClusterFlagged(
            cluster_id=cluster.cluster_id,
            joined_ticket_ids=cluster.joined,
            size=cluster.size,
            reporters=cluster.reporters,
            category=cluster.category,
            area_code=cluster.area_code,
        ),
        ticket_id=ticket_id,
        occurred_at=now,
    )
    return TimelineEntry(
        ticket_id=ticket_id,
        at=now,
        event_type="ticket.cluster_flagged",
        text=f"同一事项已有{cluster.reporters}人反映，列为集中诉求，提请督办",
    )


async def _new_reporters(
    session: AsyncSession, cluster_id: str, joining: Iterable[domain.Matter]
) -> int:
    """How many of the joining reports come from people the cluster did not have yet."""
    keys = sorted({domain.reporter_key(m) for m in joining})
    added = await session.execute(
        _add_reporters(dialect_name(session)),
        [{"cluster_id": cluster_id, "reporter": key} for key in keys],
    )
    return len(added.all())


# Statements built once: building them per report cost more than running them (the reporters'
# INSERT, with its rows as VALUES, was compiled anew for every report).
_CLUSTERS = cast(Table, Cluster.__table__)
_c = _CLUSTERS.c
_GROW = (
    update(_CLUSTERS)
    .where(_c.id == bindparam("cluster"))
    .values(
        size=_c.size + bindparam("joined"),
        reporters=_c.reporters + bindparam("added"),
        updated_at=bindparam("now"),
    )
    .returning(_c.size, _c.reporters)
)


@cache
def _add_reporters(dialect: str) -> Insert:
    """Add a cluster's reporters, each once, answering with those it did not have yet."""
    table = ClusterReporter.__table__
    return insert_in(dialect, table).on_conflict_do_nothing().returning(table.c.reporter)
