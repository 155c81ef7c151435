"""intake's directory (目录): the gazetteer, the taxonomy and the area boundaries, read once and
kept while they do not change.

Every report needs all three (its area is resolved from names or coordinates, its category
checked against the tree), and reading them per request cost more than writing the ticket. They
change rarely, by a load through intake's own service functions, which call `directory_changed` in the
same transaction: that replaces the stamp, so each process (and each replica) reloads on the
next request that reads the new stamp — one primary-key read per request.
"""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, domain
from intake.models import Area, AreaBoundary, Category, DirectoryStamp

STAMP_ID = 1
_STAMP = select(DirectoryStamp.version).where(DirectoryStamp.id == STAMP_ID)


@dataclass(frozen=True)
class Directory:
    areas: tuple[domain.AreaName, ...]
    places: tuple[str, ...]  # every area name and alias, longest first (cut out of texts)
    categories: frozenset[str]
    taxonomy: tuple[classify.CategoryNode, ...]
    boundaries: tuple[domain.Boundary, ...]


# Per engine, not per URL: a test that drops and re-creates a database gets a new engine.
_cached: weakref.WeakKeyDictionary[Engine, tuple[int | None, Directory]] = (
    weakref.WeakKeyDictionary()
)


async def current(session: AsyncSession) -> Directory:
    """The directory as of the stamp this session reads (stamp first, so what is cached is never
    older than the stamp it is cached under)."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    stamp = await session.scalar(_STAMP)
    cached = _cached.get(engine)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    directory = await _load(session)
    _cached[engine] = (stamp, directory)
    return directory


async def directory_changed(session: AsyncSession) -> None:
    """Mark the directory changed, in the caller's transaction. A random stamp rather than a
    counter, so a re-created database never meets an old cache under the same value."""
    version = secrets.randbits(31)
    result = await session.execute(
        update(DirectoryStamp).where(DirectoryStamp.id == STAMP_ID).values(version=version)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DirectoryStamp(id=STAMP_ID, version=version))
        await session.flush()


async def _load(session: AsyncSession) -> Directory:
    areas = tuple(
        domain.AreaName(a.code, a.level, (a.name, *filter(None, a.aliases.split("|"))))
        for a in await session.scalars(select(Area))
    )
    nodes = (await session.scalars(select(Category).order_by(Category.path))).all()
    boundaries = tuple(
        domain.Boundary(b.area_code, b.level, tuple((p[0], p[1]) for p in b.polygon))
        for b in await session.scalars(select(AreaBoundary))
    )
    places = sorted({name for area in areas for name in area.names}, key=len, reverse=True)
    return Directory(
        areas=areas,
        places=tuple(places),
        categories=frozenset(c.path for c in nodes),
        taxonomy=tuple(
            classify.CategoryNode(c.path, tuple(filter(None, c.keywords.split("|")))) for c in nodes
        ),
        boundaries=boundaries,
    )
