"""intake's directory (目录): the gazetteer, the taxonomy and the area boundaries, which every
report needs (its area is resolved from names or coordinates, its category checked against the
tree). Cached until a flush writes an area, a boundary or a category (shared.stamped).

The taxonomy is intake's own. Areas, their aliases and boundaries belong to routing's directory:
intake keeps a copy built only from `directory.area_changed` (`learn_area`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, domain
from intake.gazetteer import Gazetteer
from intake.models import Area, AreaBoundary, Category, stamps
from shared.events import Event
from shared.events.routing import AreaChanged
from shared.stamped import Stamped


@dataclass(frozen=True)
class Directory:
    gazetteer: Gazetteer  # the areas, their names and boundaries, indexed
    taxonomy: classify.Taxonomy  # the tree, indexed by its keywords
    paths_by_code: Mapping[str, str]  # Open311 `service_code` → path

    @property
    def areas(self) -> tuple[domain.AreaName, ...]:
        return self.gazetteer.areas

    @property
    def categories(self) -> frozenset[str]:
        return self.taxonomy.paths


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
    return Directory(
        gazetteer=Gazetteer.of(areas, boundaries),
        taxonomy=classify.Taxonomy.of(
            classify.CategoryNode(c.path, tuple(filter(None, c.keywords.split("|")))) for c in nodes
        ),
        paths_by_code={c.code: c.path for c in nodes},
    )


_directory = Stamped(stamps, "directory", _load)
_directory.watch(Area, AreaBoundary, Category)
current = _directory.get


async def learn_area(session: AsyncSession, event: Event[AreaChanged]) -> None:
    """On `directory.area_changed`: replace intake's copy of the area (name, level, parent,
    aliases, boundary). A retired area leaves the gazetteer: new reports are no longer resolved
    to it, while tickets already filed keep its code."""
    area = event.data
    # ORM writes, not bulk statements: the cache above is stamped by the flush that writes them.
    known = await session.get(Area, area.code)
    boundary = await session.get(AreaBoundary, area.code)
    if boundary is not None and (area.change == "retired" or not area.boundary):
        await session.delete(boundary)
    if area.change == "retired":
        if known is not None:
            await session.delete(known)
        return
    if known is None:
        known = Area(code=area.code)
        session.add(known)
    known.name, known.level, known.parent_code = area.area_name, area.level, area.parent
    known.aliases = "|".join(area.aliases)
    if area.boundary:
        polygon = [list(p) for p in area.boundary]
        if boundary is None:
            session.add(AreaBoundary(area_code=area.code, level=area.level, polygon=polygon))
        else:
            boundary.level, boundary.polygon = area.level, polygon


async def area_count(session: AsyncSession) -> int:
    """How many areas intake has learned (the demo loader waits for routing's to arrive)."""
    return int(await session.scalar(select(func.count()).select_from(Area)) or 0)
