"""The directory (目录): areas and units (CRUD and bulk import from CSV/Excel, each change a new
directory version), and the installation load of a city (its directory and first catalogue).

routing owns the directory (目录): every change of an area or a unit is announced in the same
transaction as `directory.area_changed` / `directory.unit_changed` with the row's whole state,
and the other services build their copies (intake's gazetteer, sla's and analytics' unit
classes, analytics' area names) from those events only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain, tables
from routing.models import (
    Area,
    Assignment,
    CatalogueVersion,
    DirectoryVersion,
    Rule,
    Unit,
    outbox,
)
from routing.reference import (
    area_parents,
    catalogue_rules,
    join,
    split,
    version_in_force,
)
from routing.schemas import AreaIn, AreaPatch, UnitIn, UnitPatch
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events.routing import (
    DIRECTORY_KEY,
    AreaChanged,
    DirectoryChange,
    UnitChanged,
)

# The first catalogue (the demo city's, or one loaded at installation) is in force from here.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
AREA_COLUMNS = ("code", "name", "level", "parent", "aliases")  # aliases "|"-separated
UNIT_COLUMNS = ("id", "name", "kind", "area")


async def announce_area(
    session: AsyncSession, area: Area, change: DirectoryChange, now: datetime
) -> None:
    """`directory.area_changed` with the area's whole state, in the caller's transaction."""
    await outbox.emit(
        session,
        AreaChanged(
            change=change,
            code=area.code,
            area_name=area.name,
            level=area.level,  # type: ignore[arg-type]
            parent=area.parent_code,
            aliases=split(area.aliases),
            boundary=[(p[0], p[1]) for p in area.boundary] if area.boundary else None,
            directory_version=area.version,
        ),
        ticket_id=DIRECTORY_KEY,
        occurred_at=now,
    )


async def announce_unit(
    session: AsyncSession, unit: Unit, change: DirectoryChange, now: datetime
) -> None:
    """`directory.unit_changed` with the unit's whole state and class, in the caller's
    transaction."""
    await outbox.emit(
        session,
        UnitChanged(
            change=change,
            unit_id=unit.id,
            unit_name=unit.name,
            kind=unit.kind,  # type: ignore[arg-type]
            unit_class=domain.unit_class_of(unit.kind),  # type: ignore[arg-type]
            area_code=unit.area_code,
            directory_version=unit.version,
        ),
        ticket_id=DIRECTORY_KEY,
        occurred_at=now,
    )


async def _next_directory_version(
    session: AsyncSession, source: str, who: str, now: datetime
) -> DirectoryVersion:
    latest = await session.scalar(select(func.max(DirectoryVersion.version)))
    version = DirectoryVersion(
        version=(latest or 0) + 1, source=source, areas=0, units=0, created_at=now, created_by=who
    )
    session.add(version)
    return version


async def announce_directory(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Announce every area and unit again as it stands (retired ones as retired), for a service
    that joined later or an upgrade from before routing announced its directory. Consumers
    replace their copies, so announcing twice changes nothing. Returns (areas, units)."""
    areas = (await session.scalars(select(Area).order_by(Area.code))).all()
    for area in areas:
        await announce_area(session, area, "changed" if area.active else "retired", now)
    units = (await session.scalars(select(Unit).order_by(Unit.id))).all()
    for unit in units:
        await announce_unit(session, unit, "changed" if unit.active else "retired", now)
    return len(areas), len(units)


async def directory_versions(session: AsyncSession) -> Sequence[DirectoryVersion]:
    rows = await session.scalars(select(DirectoryVersion).order_by(DirectoryVersion.version))
    return rows.all()


# --- areas ----------------------------------------------------------------------------


def _level_below(parent_level: str, level: str) -> bool:
    return domain.AREA_LEVELS.index(level) > domain.AREA_LEVELS.index(parent_level)


async def list_areas(session: AsyncSession, parent: str | None = None) -> Sequence[Area]:
    query = select(Area).order_by(Area.code)
    if parent is not None:
        query = query.where(Area.parent_code == parent)
    return (await session.scalars(query)).all()


async def get_area(session: AsyncSession, code: str) -> Area:
    area = await session.get(Area, code)
    if area is None:
        raise NotFound(f"Area '{code}' does not exist.", field="code")
    return area


async def _check_parent(session: AsyncSession, level: str, parent_code: str | None) -> None:
    if parent_code is None:
        if level != "city":
            raise InvalidInput(f"parent: a {level} needs a parent area.", field="parent")
        return
    parent = await session.get(Area, parent_code)
    if parent is None or not parent.active:
        raise InvalidInput(f"parent: unknown area '{parent_code}'.", field="parent")
    if not _level_below(parent.level, level):
        raise InvalidInput(
            f"parent: a {level} cannot sit under the {parent.level} {parent_code}.", field="parent"
        )


async def create_area(
    session: AsyncSession, body: AreaIn, *, who: Principal, now: datetime
) -> Area:
    if await session.get(Area, body.code) is not None:
        raise Conflict(
            f"Area '{body.code}' already exists; change it with PATCH.",
            status_now="exists",
            allowed_actions=["patch"],
        )
    await _check_parent(session, body.level, body.parent)
    version = await _next_directory_version(session, f"create area {body.code}", who.subject, now)
    version.areas = 1
    area = Area(
        code=body.code,
        name=body.name,
        level=body.level,
        parent_code=body.parent,
        aliases=join(body.aliases),
        boundary=[list(p) for p in body.boundary] if body.boundary else None,
        active=True,
        version=version.version,
    )
    session.add(area)
    await announce_area(session, area, "created", now)
    return area


async def update_area(
    session: AsyncSession, code: str, body: AreaPatch, *, who: Principal, now: datetime
) -> Area:
    area = await get_area(session, code)
    if body.parent is not None:
        await _check_parent(session, area.level, body.parent)
        if domain.within_area(body.parent, area.code, await area_parents(session)):
            raise InvalidInput(f"parent: {body.parent} lies within {code}.", field="parent")
        area.parent_code = body.parent
    if body.name is not None:
        area.name = body.name
    if body.aliases is not None:
        area.aliases = join(body.aliases)
    if "boundary" in body.model_fields_set:  # null removes it
        area.boundary = [list(p) for p in body.boundary] if body.boundary else None
    version = await _next_directory_version(session, f"update area {code}", who.subject, now)
    version.areas = 1
    area.version = version.version
    await announce_area(session, area, "changed", now)
    return area


async def deactivate_area(
    session: AsyncSession, code: str, *, who: Principal, now: datetime
) -> Area:
    """Areas are never deleted (old tickets name them); they are deactivated when empty."""
    area = await get_area(session, code)
    children = await session.scalar(
        select(func.count()).select_from(Area).where(Area.parent_code == code, Area.active)
    )
    units = await session.scalar(
        select(func.count()).select_from(Unit).where(Unit.area_code == code, Unit.active)
    )
    if children or units:
        raise Conflict(
            f"Area '{code}' still has {children} active sub-area(s) and {units} active unit(s).",
            status_now="in_use",
            allowed_actions=[],
        )
    area.active = False
    version = await _next_directory_version(session, f"deactivate area {code}", who.subject, now)
    version.areas = 1
    area.version = version.version
    await announce_area(session, area, "retired", now)
    return area


# --- units ----------------------------------------------------------------------------


async def list_units(session: AsyncSession, area: str | None = None) -> Sequence[Unit]:
    query = select(Unit).order_by(Unit.id)
    if area is not None:
        query = query.where(Unit.area_code == area)
    return (await session.scalars(query)).all()


async def get_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit '{unit_id}' does not exist.", field="unit_id")
    return unit


async def _check_area(session: AsyncSession, code: str) -> None:
    area = await session.get(Area, code)
    if area is None or not area.active:
        raise InvalidInput(f"area_code: unknown area '{code}'.", field="area_code")


async def create_unit(
    session: AsyncSession, body: UnitIn, *, who: Principal, now: datetime
) -> Unit:
    if await session.get(Unit, body.id) is not None:
        raise Conflict(
            f"Unit '{body.id}' already exists; change it with PATCH.",
            status_now="exists",
            allowed_actions=["patch"],
        )
    await _check_area(session, body.area_code)
    version = await _next_directory_version(session, f"create unit {body.id}", who.subject, now)
    version.units = 1
    unit = Unit(
        id=body.id,
        name=body.name,
        kind=body.kind,
        area_code=body.area_code,
        active=True,
        version=version.version,
    )
    session.add(unit)
    await announce_unit(session, unit, "created", now)
    return unit


async def update_unit(
    session: AsyncSession, unit_id: str, body: UnitPatch, *, who: Principal, now: datetime
) -> Unit:
    unit = await get_unit(session, unit_id)
    if body.area_code is not None:
        await _check_area(session, body.area_code)
        unit.area_code = body.area_code
    if body.name is not None:
        unit.name = body.name
    version = await _next_directory_version(session, f"update unit {unit_id}", who.subject, now)
    version.units = 1
    unit.version = version.version
    await announce_unit(session, unit, "changed", now)
    return unit


async def deactivate_unit(
    session: AsyncSession, unit_id: str, *, who: Principal, now: datetime
) -> Unit:
    """A unit named by the catalogue in force, or holding open assignments, stays active."""
    unit = await get_unit(session, unit_id)
    rules = await catalogue_rules(session, await version_in_force(session, now))
    named = [r.id for r in rules if unit_id in (r.lead_unit_id, *r.assist_unit_ids)]
    open_work = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.unit_id == unit_id, Assignment.status.not_in(domain.ENDED))
    )
    if named or open_work:
        raise Conflict(
            f"Unit '{unit_id}' is named by catalogue rule(s) {', '.join(named) or 'none'} and "
            f"holds {open_work} open assignment(s); change those first.",
            status_now="in_use",
            allowed_actions=[],
        )
    unit.active = False
    version = await _next_directory_version(session, f"deactivate unit {unit_id}", who.subject, now)
    version.units = 1
    unit.version = version.version
    await announce_unit(session, unit, "retired", now)
    return unit


# --- bulk import ------------------------------------------------------------------------


async def import_directory(
    session: AsyncSession,
    filename: str,
    content: bytes,
    *,
    table: str,
    who: Principal,
    now: datetime,
) -> DirectoryVersion:
    """Areas and units from a CSV file (one table, named by `table`) or an .xlsx workbook
    (sheets "areas" and/or "units"). Rows are inserted or updated; every problem is named by
    sheet and row, and a file with any problem changes nothing."""
    sheets = tables.read_tables(filename, content, table)
    area_rows = sheets.get("areas", [])
    unit_rows = sheets.get("units", [])
    if not area_rows and not unit_rows:
        raise InvalidInput(
            "file: no rows found; a workbook needs a sheet 'areas' or 'units', a CSV file "
            "the table=areas|units parameter.",
            field="file",
        )
    tables.require_columns("areas", area_rows, AREA_COLUMNS, ("code", "name", "level"))
    tables.require_columns("units", unit_rows, UNIT_COLUMNS, UNIT_COLUMNS)

    known = {a.code: a for a in (await session.scalars(select(Area))).all()}
    levels = {code: a.level for code, a in known.items() if a.active}
    problems: list[str] = []
    seen: set[str] = set()
    for n, row in enumerate(area_rows, start=2):
        code, level, parent = row.get("code"), row.get("level"), row.get("parent")
        if not code or not row.get("name"):
            problems.append(f"areas row {n}: code and name are required")
            continue
        if code in seen:
            problems.append(f"areas row {n}: area {code} appears twice")
        seen.add(code)
        if level not in domain.AREA_LEVELS:
            problems.append(
                f"areas row {n}: level '{level}' is not one of {', '.join(domain.AREA_LEVELS)}"
            )
            continue
        levels[code] = level
    for n, row in enumerate(area_rows, start=2):
        code, level, parent = row.get("code"), row.get("level"), row.get("parent")
        if not code or level not in domain.AREA_LEVELS:
            continue
        if parent is None and level != "city":
            problems.append(f"areas row {n}: a {level} needs a parent")
        elif parent is not None and parent not in levels:
            problems.append(f"areas row {n}: unknown parent area {parent}")
        elif parent is not None and not _level_below(levels[parent], level):
            problems.append(
                f"areas row {n}: a {level} cannot sit under the {levels[parent]} {parent}"
            )
    unit_seen: set[str] = set()
    for n, row in enumerate(unit_rows, start=2):
        unit_id, kind, area = row.get("id"), row.get("kind"), row.get("area")
        if not unit_id or not row.get("name"):
            problems.append(f"units row {n}: id and name are required")
            continue
        if unit_id in unit_seen:
            problems.append(f"units row {n}: unit {unit_id} appears twice")
        unit_seen.add(unit_id)
        if kind not in domain.UNIT_KINDS:
            problems.append(
                f"units row {n}: kind '{kind}' is not one of {', '.join(domain.UNIT_KINDS)}"
            )
        if area not in levels:
            problems.append(f"units row {n}: unknown area {area}")
    if problems:
        raise InvalidInput(
            f"file: {len(problems)} problem(s), nothing imported: " + "; ".join(problems[:20]),
            field="file",
            problems=problems,
        )

    version = await _next_directory_version(session, f"import {filename}", who.subject, now)
    for row in area_rows:
        incoming = Area(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_code=row.get("parent"),
            active=True,
            version=version.version,
        )
        if "aliases" in row:  # a file without the column leaves the aliases as they are
            incoming.aliases = join(split(row["aliases"]))
        merged = await session.merge(incoming)
        await announce_area(session, merged, "changed" if row["code"] in known else "created", now)
    await session.flush()
    units_known = set((await session.scalars(select(Unit.id))).all())
    for row in unit_rows:
        unit = await session.merge(
            Unit(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                area_code=row["area"],
                active=True,
                version=version.version,
            )
        )
        await announce_unit(
            session, unit, "changed" if row["id"] in units_known else "created", now
        )
    version.areas, version.units = len(area_rows), len(unit_rows)
    return version


# --- loading a city at installation (the demo city) ------------------------------------------


def _area_state(a: Area) -> tuple[object, ...]:
    return (a.name, a.level, a.parent_code, a.aliases, a.boundary, a.active)


def _unit_state(u: Unit) -> tuple[object, ...]:
    return (u.name, u.kind, u.area_code, u.active)


async def load_directory(
    session: AsyncSession,
    *,
    areas: Iterable[Mapping[str, Any]],
    units: Iterable[Mapping[str, Any]],
    rules: Iterable[Mapping[str, Any]],
    catalogue_version: int = 1,
) -> None:
    """Load areas, units and catalogue rules as directory version 1 and catalogue
    `catalogue_version`, in force from the beginning, announcing each new or changed area and
    unit. Loading again changes nothing and announces nothing."""
    now = datetime.now(UTC)
    if await session.get(DirectoryVersion, 1) is None:
        session.add(
            DirectoryVersion(
                version=1,
                source="initial load",
                areas=0,
                units=0,
                created_at=now,
                created_by="load",
            )
        )
    known_areas = {a.code: a for a in (await session.scalars(select(Area))).all()}
    for a in areas:
        wanted = Area(
            code=a["code"],
            name=a["name"],
            level=a["level"],
            parent_code=a.get("parent"),
            aliases=join(a.get("aliases", [])),
            boundary=a.get("boundary"),
            active=True,
            version=1,
        )
        before = known_areas.get(wanted.code)
        if before is None or _area_state(before) != _area_state(wanted):
            area = await session.merge(wanted)
            await announce_area(session, area, "created" if before is None else "changed", now)
    await session.flush()
    known_units = {u.id: u for u in (await session.scalars(select(Unit))).all()}
    for u in units:
        wanted_unit = Unit(
            id=u["id"], name=u["name"], kind=u["kind"], area_code=u["area"], active=True, version=1
        )
        before_unit = known_units.get(wanted_unit.id)
        if before_unit is None or _unit_state(before_unit) != _unit_state(wanted_unit):
            unit = await session.merge(wanted_unit)
            change: DirectoryChange = "created" if before_unit is None else "changed"
            await announce_unit(session, unit, change, now)
    await session.flush()
    rule_list = list(rules)
    if await session.get(CatalogueVersion, catalogue_version) is None:
        session.add(
            CatalogueVersion(
                version=catalogue_version,
                effective_from=BEGINNING,
                source="initial load",
                note="",
                rule_count=len(rule_list),
                created_at=now,
                created_by="load",
            )
        )
        await session.flush()
    for r in rule_list:
        await session.merge(
            Rule(
                version=catalogue_version,
                id=r["id"],
                category=r["category"],
                area_code=r.get("area"),
                keywords=join(r.get("keywords", [])),
                lead=r["lead"],
                assists=join(r.get("assist", [])),
                mode=r.get("mode"),
            )
        )
