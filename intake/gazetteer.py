"""The gazetteer indexed (地名库索引): which of its names a text holds and which boundaries may
hold a point, found in time that grows with the text, not with the city.

The rules stay where they are — `domain.resolve_area` (the most specific area named),
`domain.area_at` (the deepest boundary holding a point) and `similarity.terms` (place names cut
out of the words compared) — and each used to be handed the whole gazetteer for every report:
every name of every area looked for in the address and cut out of the text, every boundary's
ring tested. A real city has thousands of communities and grids, each with a boundary and
aliases, and that made every report cost milliseconds more (docs/performance.md). The index
hands each rule only what can matter to it, so each answers as it did:

- a name can be found or cut out only if the text holds it, and cutting a name out (it becomes
  a space) never makes another appear, unless that one has a space in it (those are always
  handed over);
- a boundary can hold a point only if its bounding box does (a very wide box is looked at for
  every point rather than spread over the grid).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from intake.phrases import Phrases

if TYPE_CHECKING:
    from intake.domain import AreaName, Boundary

# The grid of the boundaries' index, in degrees (about a kilometre): a point looks at the
# boundaries whose bounding box meets its cell, a few in a city of thousands.
CELL_DEGREES = 0.01
# A boundary whose box spans more cells (half a degree square: a district, a whole city, or a
# ring with a stray vertex) is not spread over the grid, which that would swell, but looked at
# for every point, as the few such boundaries cost little.
WIDE_CELLS = 2_500

Cell = tuple[int, int]


def _cell(lng: float, lat: float) -> Cell:
    return math.floor(lng / CELL_DEGREES), math.floor(lat / CELL_DEGREES)


@dataclass(frozen=True)
class Gazetteer:
    """The areas with their names, and their boundaries, as a report is placed against them."""

    areas: tuple[AreaName, ...]
    boundaries: tuple[Boundary, ...]
    places: tuple[str, ...]  # every name and alias, longest first
    _names: Phrases  # `places`, to find in a text
    _spaced: frozenset[str]  # names with a space in them
    _rank: Mapping[str, int]  # each name's place in `places`
    _named: Mapping[str, tuple[AreaName, ...]]  # the areas of each name
    _codes: frozenset[str]
    _cells: Mapping[Cell, tuple[Boundary, ...]]
    _wide: tuple[Boundary, ...]  # looked at for every point

    @classmethod
    def of(cls, areas: Iterable[AreaName], boundaries: Iterable[Boundary] = ()) -> Gazetteer:
        areas, boundaries = tuple(areas), tuple(boundaries)
        named: defaultdict[str, list[AreaName]] = defaultdict(list)
        for area in areas:
            for name in dict.fromkeys(area.names):
                if name:
                    named[name].append(area)
        places = tuple(sorted(named, key=len, reverse=True))
        cells: defaultdict[Cell, list[Boundary]] = defaultdict(list)
        wide: list[Boundary] = []
        for boundary in boundaries:
            if not boundary.ring:
                continue
            lngs = [lng for lng, _ in boundary.ring]
            lats = [lat for _, lat in boundary.ring]
            (west, south), (east, north) = (
                _cell(min(lngs), min(lats)),
                _cell(max(lngs), max(lats)),
            )
            if (east - west + 1) * (north - south + 1) > WIDE_CELLS:
                wide.append(boundary)
                continue
            for x in range(west, east + 1):
                for y in range(south, north + 1):
                    cells[(x, y)].append(boundary)
        return cls(
            areas=areas,
            boundaries=boundaries,
            places=places,
            _names=Phrases.of(places),
            _spaced=frozenset(name for name in places if any(c.isspace() for c in name)),
            _rank={name: rank for rank, name in enumerate(places)},
            _named={name: tuple(found) for name, found in named.items()},
            _codes=frozenset(area.code for area in areas),
            _cells={cell: tuple(found) for cell, found in cells.items()},
            _wide=tuple(wide),
        )

    def has(self, code: str) -> bool:
        return code in self._codes

    def names_in(self, text: str | None) -> list[str]:
        """The names to cut out of the text: those it holds, and those with a space, longest
        first (as `places`)."""
        return sorted(self._names.held_in(text) | self._spaced, key=self._rank.__getitem__)

    def areas_named_in(self, text: str | None) -> list[AreaName]:
        """The areas one of whose names the text holds."""
        return list(
            dict.fromkeys(area for name in self._names.held_in(text) for area in self._named[name])
        )

    def boundaries_near(self, lng: float, lat: float) -> tuple[Boundary, ...]:
        """The boundaries whose bounding box's cells hold the point's cell, and the wide ones."""
        return self._cells.get(_cell(lng, lat), ()) + self._wide
