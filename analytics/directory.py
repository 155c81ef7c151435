"""The directory (目录) analytics keeps: areas' names, levels and parents, units' names and
classes. routing owns it; analytics learns it only from routing's events:

- `directory.area_changed` and `directory.unit_changed` carry an area's or a unit's whole
  state, so each replaces analytics' copy;
- `ticket.dispatched` names the unit, and carries its class (单位类别) in events written since
  routing put it there: the class a dispatch states wins over an older one, and a later
  `directory.unit_changed` that changes the class applies in turn. Whichever event arrived last
  (in analytics' own arrival order, so a rebuild agrees) decides.

Every query reads the directory, and it changes rarely: it is cached until a flush writes an
area or a unit (shared.stamped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.models import Area, Unit, stamps
from shared.events.routing import AreaChanged, TicketDispatched, UnitChanged
from shared.stamped import Stamped


@dataclass(frozen=True)
class AreaEntry:
    name: str
    level: str
    parent: str | None
    retired: bool = False


@dataclass(frozen=True)
class UnitEntry:
    name: str | None
    unit_class: str | None  # None until an event names it
    kind: str | None = None
    area_code: str | None = None
    retired: bool = False


@dataclass(frozen=True)
class Directory:
    """The areas and units analytics has learned, by code and by id."""

    areas: Mapping[str, AreaEntry]
    units: Mapping[str, UnitEntry]

    def area_at_level(self, code: str, level: str) -> str:
        """The ancestor of `code` at `level` (district, street …), or `code` when unknown."""
        seen: str | None = code
        for _ in range(len(self.areas) + 1):  # a parent cycle is a data error, not a loop
            area = self.areas.get(seen or "")
            if area is None:
                break
            if area.level == level:
                return seen or code
            seen = area.parent
        return code

    def area_name(self, code: str) -> str:
        area = self.areas.get(code)
        return area.name if area else code

    def unit_name(self, unit_id: str) -> str | None:
        unit = self.units.get(unit_id)
        return unit.name if unit else None

    def unit_class(self, unit_id: str) -> str | None:
        unit = self.units.get(unit_id)
        return unit.unit_class if unit else None


# --- the rules: what each event makes of analytics' copy (pure) ------------------------------


def area_after(change: AreaChanged) -> AreaEntry:
    return AreaEntry(
        name=change.area_name,
        level=change.level,
        parent=change.parent,
        retired=change.change == "retired",
    )


def unit_after(prior: UnitEntry | None, event: UnitChanged | TicketDispatched) -> UnitEntry:
    """A unit change replaces the whole entry; a dispatch renames the unit and states its class
    when the event carries one (older dispatches do not: the class learned before stays)."""
    if isinstance(event, UnitChanged):
        return UnitEntry(
            name=event.unit_name,
            unit_class=event.unit_class,
            kind=event.kind,
            area_code=event.area_code,
            retired=event.change == "retired",
        )
    base = prior or UnitEntry(name=None, unit_class=None)
    return UnitEntry(
        name=event.unit_name or base.name,
        unit_class=event.unit_class or base.unit_class,
        kind=base.kind,
        area_code=base.area_code,
        retired=base.retired,
    )


# --- storage -------------------------------------------------------------------------------


async def learn_area(session: AsyncSession, change: AreaChanged) -> None:
    entry = area_after(change)
    row = await session.get(Area, change.code)
    if row is None:
        session.add(Area(code=change.code, **vars(entry)))
        return
    _update(row, vars(entry))


async def learn_unit(
    session: AsyncSession, unit_id: str, event: UnitChanged | TicketDispatched
) -> None:
    row = await session.get(Unit, unit_id)
    prior = _unit_entry(row) if row is not None else None
    entry = unit_after(prior, event)
    if row is None:
        session.add(Unit(unit_id=unit_id, **vars(entry)))
    elif entry != prior:
        _update(row, vars(entry))


async def learn_dispatches(session: AsyncSession, dispatches: Sequence[TicketDispatched]) -> None:
    """A run's dispatches, in order: what `learn_unit` makes of each, folded per unit over the
    cached directory, so a run costs one read of the stamp instead of one read per dispatch;
    only a unit whose entry they change is written (rarely: a new unit, a renamed one)."""
    if not dispatches:
        return
    known = (await current(session)).units
    learned: dict[str, UnitEntry] = {}
    for dispatch in dispatches:
        prior = learned.get(dispatch.unit_id) or known.get(dispatch.unit_id)
        learned[dispatch.unit_id] = unit_after(prior, dispatch)
    changed = {u: entry for u, entry in learned.items() if entry != known.get(u)}
    if not changed:
        return
    rows = {
        u.unit_id: u for u in await session.scalars(select(Unit).where(Unit.unit_id.in_(changed)))
    }
    for unit_id, entry in changed.items():
        if unit_id in rows:
            _update(rows[unit_id], vars(entry))
        else:
            session.add(Unit(unit_id=unit_id, **vars(entry)))


def _update(row: object, values: Mapping[str, object]) -> None:
    # Only what differs: an unchanged row is not dirty, so the cache's stamp stays.
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _unit_entry(row: Unit) -> UnitEntry:
    return UnitEntry(row.name, row.unit_class, row.kind, row.area_code, row.retired)


async def _load(session: AsyncSession) -> Directory:
    areas = {
        a.code: AreaEntry(a.name, a.level, a.parent, a.retired)
        for a in await session.scalars(select(Area))
    }
    units = {u.unit_id: _unit_entry(u) for u in await session.scalars(select(Unit))}
    return Directory(areas=areas, units=units)


_directory = Stamped(stamps, "directory", _load)
_directory.watch(Area, Unit)
current = _directory.get
changed = _directory.changed  # for writes the flush does not see (a rebuild's bulk delete)
