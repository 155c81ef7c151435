"""The responsibility catalogue's versions (职责清单版本): each change of the catalogue is a new
version with an effective date (created through the API, imported from CSV/Excel, or grown by a
joint determination's rule), checked against the directory before it is put in force, and
explained for any ticket. The rules as data and their matching are `catalogue.py` and
`domain.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import catalogue, domain, tables
from routing.config import settings
from routing.models import Area, CatalogueVersion, Rule, Unit
from routing.reference import (
    area_parents,
    catalogue_rules,
    join,
    units_by_area_and_kind,
    version_in_force,
)
from routing.schemas import CatalogueIn, RuleIn
from shared.auth import Principal
from shared.errors import InvalidInput, NotFound


async def catalogue_versions(
    session: AsyncSession, now: datetime
) -> tuple[Sequence[CatalogueVersion], int | None]:
    rows = await session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.version))
    return rows.all(), await version_in_force(session, now)


async def rules_of(
    session: AsyncSession, version: int | None, now: datetime
) -> tuple[int, list[Rule]]:
    if version is None:
        version = await version_in_force(session, now)
        if version is None:
            raise NotFound("No catalogue version is in force yet.", field="version")
    elif await session.get(CatalogueVersion, version) is None:
        raise NotFound(f"Catalogue version {version} does not exist.", field="version")
    rows = await session.scalars(select(Rule).where(Rule.version == version).order_by(Rule.id))
    return version, list(rows.all())


def rule_from_in(r: RuleIn, version: int, row: int | None = None) -> domain.CatalogueRule:
    return domain.CatalogueRule(
        id=r.id,
        category=r.category.strip("/"),
        area_code=r.area,
        keywords=tuple(r.keywords),
        lead_unit_id=r.lead,
        assist_unit_ids=tuple(r.assist),
        version=version,
        mode=r.mode,
        row=row,
    )


async def _directory(session: AsyncSession) -> catalogue.Directory:
    areas = (await session.scalars(select(Area.code).where(Area.active))).all()
    units = (await session.scalars(select(Unit.id).where(Unit.active))).all()
    return catalogue.Directory(frozenset(areas), frozenset(units))


async def put_in_force(
    session: AsyncSession,
    rules: Sequence[domain.CatalogueRule],
    *,
    effective_from: datetime,
    source: str,
    note: str,
    who: str,
    now: datetime,
    check: bool = True,
) -> CatalogueVersion:
    """A new catalogue version holding `rules`, in force from `effective_from`. Conflicting
    or unknown rows are refused, each named, and nothing is written."""
    if check:
        found = catalogue.problems(rules, await _directory(session))
        if found:
            raise InvalidInput(
                f"rules: {len(found)} problem(s), catalogue not changed: " + "; ".join(found[:20]),
                field="rules",
                problems=found,
            )
    latest = await session.scalar(select(func.max(CatalogueVersion.version)))
    number = (latest or 0) + 1
    version = CatalogueVersion(
        version=number,
        effective_from=effective_from,
        source=source,
        note=note,
        rule_count=len(rules),
        created_at=now,
        created_by=who,
    )
    session.add(version)
    await session.flush()
    for r in rules:
        session.add(_row(r, number))
    return version


def _row(r: domain.CatalogueRule, version: int) -> Rule:
    return Rule(
        version=version,
        id=r.id,
        category=r.category,
        area_code=r.area_code,
        keywords=join(r.keywords),
        lead=r.lead_unit_id,
        assists=join(r.assist_unit_ids),
        mode=r.mode,
        row=r.row,
    )


async def create_catalogue(
    session: AsyncSession, body: CatalogueIn, *, who: Principal, now: datetime
) -> CatalogueVersion:
    rules = [rule_from_in(r, 0, row=i) for i, r in enumerate(body.rules, start=1)]
    return await put_in_force(
        session,
        rules,
        effective_from=body.effective_from or now,
        source="api",
        note=body.note,
        who=who.subject,
        now=now,
    )


async def import_catalogue(
    session: AsyncSession,
    filename: str,
    content: bytes,
    *,
    effective_from: datetime | None,
    note: str,
    who: Principal,
    now: datetime,
) -> CatalogueVersion:
    """A catalogue from a CSV file or the "rules" (or first) sheet of an .xlsx workbook."""
    sheets = tables.read_tables(filename, content, "rules")
    rows = sheets.get("rules") or next(iter(sheets.values()), [])
    if not rows:
        raise InvalidInput("file: no rule rows found.", field="file")
    tables.require_columns("rules", rows, catalogue.RULE_COLUMNS, ("id", "category", "lead"))
    rules = catalogue.rules_from_rows(rows, 0)
    return await put_in_force(
        session,
        rules,
        effective_from=effective_from or now,
        source=f"import {filename}",
        note=note,
        who=who.subject,
        now=now,
    )


async def add_rule(
    session: AsyncSession, rule: domain.CatalogueRule, *, note: str, who: str, now: datetime
) -> CatalogueVersion:
    """A new version: the catalogue in force now plus `rule` (a joint determination's)."""
    current = await catalogue_rules(session, await version_in_force(session, now))
    return await put_in_force(
        session,
        [*current, rule],
        effective_from=now,
        source="joint determination",
        note=note,
        who=who,
        now=now,
    )


async def explain(
    session: AsyncSession, *, category: str, area_code: str | None, text: str, at: datetime
) -> dict[str, Any]:
    """Which rule would lead, why, and every other rule that applies."""
    if area_code is not None and await session.get(Area, area_code) is None:
        raise InvalidInput(f"area_code: unknown area '{area_code}'.", field="area_code")
    version = await version_in_force(session, at)
    rules = await catalogue_rules(session, version)
    chain = domain.area_chain(area_code, await area_parents(session))
    decision = domain.lead_unit_for(category=category, text=text, chain=chain, rules=rules)
    plan = None
    if decision is not None and decision.rule is not None:
        plan = domain.plan_dispatch(
            decision,
            mode=decision.rule.mode or settings().default_mode,
            chain=chain,
            units_at=await units_by_area_and_kind(session),
        )
    return {
        "catalogue_version": version,
        "lead_unit_id": plan.lead_unit_id if plan else None,
        "assist_unit_ids": list(plan.assist_unit_ids) if plan else [],
        "mode": plan.mode if plan else None,
        "rule_id": decision.rule.id if decision and decision.rule else None,
        "reason": plan.reason
        if plan
        else (decision.reason if decision else "no catalogue rule matched"),
        "candidates": catalogue.candidates(category=category, text=text, chain=chain, rules=rules),
    }
