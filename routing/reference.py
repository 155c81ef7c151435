"""routing's reference data as every use case reads it, and the small row helpers they share.

The directory (目录: areas and units) and the responsibility catalogue (职责清单) are read for
every ticket and changed rarely, so dispatch reads them through one cached view. Both
`directory.py` (which changes them) and the dispatching use cases read them here, so neither
imports the other. Lists are stored "|"-separated in one column, and ids are a letter and a
random hex string; every module writes them the same way through `split`, `join`, `new_id`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import catalogue, domain
from routing.models import Area, CatalogueVersion, Rule, Unit, stamps
from shared.errors import InvalidInput
from shared.stamped import Stamped


def new_id(prefix: str) -> str:
    """A new row id: `prefix` (A assignment, N note, R return, …) and 16 random hex digits."""
    return f"{prefix}{uuid.uuid4().hex[:16].upper()}"


def split(value: str | None) -> tuple[str, ...]:
    """The items of a "|"-separated column."""
    return tuple(v for v in (value or "").split("|") if v)


def join(values: Iterable[str]) -> str:
    """Items as a "|"-separated column."""
    return "|".join(values)


@dataclass(frozen=True)
class UnitCard:
    """What a dispatch announces of a unit (承办单位): its name and kind."""

    name: str
    kind: str


@dataclass(frozen=True)
class DirectoryView:
    """The directory as dispatch reads it: area parents, every unit by id (active or not: a
    rule may name an inactive one), active units by (area, kind), catalogue versions and their
    rules. Read for every ticket and changed rarely, so cached (shared.stamped) and marked
    changed by any flush that writes an area, a unit, a version or a rule."""

    parents: dict[str, str | None]
    units: dict[str, UnitCard]
    units_at: dict[tuple[str, str], str]
    versions: list[tuple[int, datetime]]
    rules: dict[int, list[domain.CatalogueRule]]
    # Each version's rules by their category: a ticket's rules are found among those of its
    # category and the categories above it, not in the whole catalogue, whose thousands of
    # entries every ticket went through.
    rules_by_category: dict[tuple[int, str], tuple[domain.CatalogueRule, ...]]

    def version_at(self, at: datetime) -> int | None:
        return catalogue.effective_version(self.versions, at)

    @cached_property
    def street_offices(self) -> dict[str, str]:
        """The active street office (街道办事处) of each area that has one: who leads under
        首接负责. Made once per view, not for every ticket that no rule places."""
        return {
            area: unit for (area, kind), unit in self.units_at.items() if kind == "street_office"
        }

    def rules_of(self, version: int | None) -> list[domain.CatalogueRule]:
        return list(self.rules.get(version, [])) if version is not None else []

    def rules_for(self, version: int | None, category: str) -> list[domain.CatalogueRule]:
        """The rules of `version` whose category takes in `category` (`domain.category_matches`:
        the category itself or one above it), in id order."""
        if version is None:
            return []
        parts = category.split("/")
        scopes = ("/".join(parts[: depth + 1]) for depth in range(len(parts)))
        found = [r for scope in scopes for r in self.rules_by_category.get((version, scope), ())]
        return sorted(found, key=lambda r: r.id)


def rule_of(r: Rule) -> domain.CatalogueRule:
    """A stored catalogue row as the rules read it."""
    return domain.CatalogueRule(
        id=r.id,
        category=r.category,
        area_code=r.area_code,
        keywords=split(r.keywords),
        lead_unit_id=r.lead,
        assist_unit_ids=split(r.assists),
        version=r.version,
        mode=r.mode,
        row=r.row,
    )


async def _load_view(session: AsyncSession) -> DirectoryView:
    parents = await session.execute(select(Area.code, Area.parent_code))
    # Ordered by id descending so that, of two active units of one kind in one area, the lower
    # id is the one kept: the same unit every time.
    units = (
        await session.execute(
            select(Unit.id, Unit.name, Unit.kind, Unit.area_code, Unit.active).order_by(
                Unit.id.desc()
            )
        )
    ).all()
    versions = await session.execute(
        select(CatalogueVersion.version, CatalogueVersion.effective_from)
    )
    rules: dict[int, list[domain.CatalogueRule]] = {}
    for r in (await session.scalars(select(Rule).order_by(Rule.id))).all():
        rules.setdefault(r.version, []).append(rule_of(r))
    return DirectoryView(
        parents={code: parent for code, parent in parents.all()},
        units={u.id: UnitCard(u.name, u.kind) for u in units},
        units_at={(u.area_code, u.kind): u.id for u in units if u.active},
        versions=[(v, f) for v, f in versions.all()],
        rules=rules,
        rules_by_category=by_category(rules),
    )


def by_category(
    rules: Mapping[int, Iterable[domain.CatalogueRule]],
) -> dict[tuple[int, str], tuple[domain.CatalogueRule, ...]]:
    """Each version's rules by their category, for `DirectoryView.rules_for`."""
    found: dict[tuple[int, str], list[domain.CatalogueRule]] = {}
    for version, of_version in rules.items():
        for rule in of_version:
            found.setdefault((version, rule.category), []).append(rule)
    return {key: tuple(of_key) for key, of_key in found.items()}


_view = Stamped(stamps, "directory", _load_view)
_view.watch(Area, Unit, CatalogueVersion, Rule)


async def directory_view(session: AsyncSession) -> DirectoryView:
    """The whole cached view: one read of its stamp, for a decision that needs several parts."""
    return await _view.get(session)


async def area_parents(session: AsyncSession) -> dict[str, str | None]:
    return (await _view.get(session)).parents


async def units_by_area_and_kind(session: AsyncSession) -> dict[tuple[str, str], str]:
    """(area, kind) → unit: how a role such as "role:street_office" is resolved."""
    return (await _view.get(session)).units_at


async def version_in_force(session: AsyncSession, at: datetime) -> int | None:
    """The catalogue version in force at `at`: the latest `effective_from` not after it."""
    return (await _view.get(session)).version_at(at)


async def catalogue_rules(session: AsyncSession, version: int | None) -> list[domain.CatalogueRule]:
    return (await _view.get(session)).rules_of(version)


async def active_unit(session: AsyncSession, unit_id: str, field: str) -> Unit:
    """The unit a request names in `field`, refused as bad input when unknown or inactive."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise InvalidInput(f"{field}: unknown or inactive unit '{unit_id}'.", field=field)
    return unit
