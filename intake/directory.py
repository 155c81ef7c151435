"""intake's directory (目录): the gazetteer, the taxonomy and the area boundaries, which every
report needs (its area is resolved from names or coordinates, its category checked against the
tree). Cached until a flush writes an area, a boundary or a category (shared.stamped)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, domain
from intake.models import Area, AreaBoundary, Category, stamps
from shared.stamped import Stamped


@dataclass(frozen=True)
class Directory:
    areas: tuple[domain.AreaName, ...]
    places: tuple[str, ...]  # every area name and alias, longest first (cut out of texts)
    categories: frozenset[str]
    taxonomy: tuple[classify.CategoryNode, ...]
    boundaries: tuple[domain.Boundary, ...]


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


_directory = Stamped(stamps, "directory", _load)
_directory.watch(Area, AreaBoundary, Category)
current = _directory.get
