"""The responsibility catalogue (职责清单 / 派单目录) as data: reading rule rows, refusing rules
that conflict at the same specificity, and picking the version in force. Pure functions; the
matching rule itself is `routing.domain.lead_unit_for`."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from routing.domain import (
    DISPATCH_MODES,
    ROLE_PREFIX,
    UNIT_KINDS,
    CatalogueRule,
    category_matches,
    is_role,
)

RULE_COLUMNS = ("id", "category", "area", "keywords", "lead", "assist", "mode")
_LIST_SPLIT = re.compile(r"[|,，、;；\s]+")


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in _LIST_SPLIT.split(value or "") if v)


def scope(rule: CatalogueRule) -> tuple[str, str | None, frozenset[str]]:
    """What a rule covers. Two rules with the same scope have the same specificity on every
    ticket they match, so neither could win: that is a conflict."""
    return (rule.category, rule.area_code, frozenset(rule.keywords))


def _name(rule: CatalogueRule) -> str:
    return f"row {rule.row} ({rule.id})" if rule.row is not None else rule.id


def conflicts(rules: Iterable[CatalogueRule]) -> list[str]:
    """Rules that conflict at the same specificity, each group named by its rows."""
    groups: dict[tuple[str, str | None, frozenset[str]], list[CatalogueRule]] = defaultdict(list)
    for rule in rules:
        groups[scope(rule)].append(rule)
    found = []
    for (category, area, keywords), group in groups.items():
        if len(group) > 1:
            where = area or "the whole city"
            words = "、".join(sorted(keywords)) or "none"
            found.append(
                f"{' and '.join(_name(r) for r in group)} conflict: the same category "
                f"{category}, area {where} and keywords {words}, so neither is more specific"
            )
    return found


@dataclass(frozen=True)
class Directory:
    """What rule validation needs to know of areas and units."""

    area_codes: frozenset[str]
    unit_ids: frozenset[str]  # active units only


def problems(rules: Sequence[CatalogueRule], directory: Directory) -> list[str]:
    """Everything wrong with a catalogue: unknown units, roles, areas and modes, repeated ids,
    and conflicts. Empty when the catalogue can be put in force."""
    found: list[str] = []
    seen: dict[str, CatalogueRule] = {}
    for rule in rules:
        at = _name(rule)
        if not rule.category:
            found.append(f"{at}: category is empty")
        if rule.area_code is not None and rule.area_code not in directory.area_codes:
            found.append(f"{at}: unknown area {rule.area_code}")
        for ref in (rule.lead_unit_id, *rule.assist_unit_ids):
            if is_role(ref):
                if ref.removeprefix(ROLE_PREFIX) not in UNIT_KINDS:
                    found.append(
                        f"{at}: unknown unit role {ref}; roles are "
                        + ", ".join(ROLE_PREFIX + k for k in UNIT_KINDS)
                    )
            elif ref not in directory.unit_ids:
                found.append(f"{at}: unknown or inactive unit {ref}")
        if not rule.lead_unit_id:
            found.append(f"{at}: lead is empty")
        if rule.mode is not None and rule.mode not in DISPATCH_MODES:
            found.append(f"{at}: unknown mode {rule.mode}; modes are {', '.join(DISPATCH_MODES)}")
        if rule.id in seen:
            found.append(f"{at}: rule id {rule.id} repeats {_name(seen[rule.id])}")
        seen.setdefault(rule.id, rule)
    return found + conflicts(rules)


def rules_from_rows(
    rows: Sequence[Mapping[str, str | None]], version: int, first_row: int = 2
) -> list[CatalogueRule]:
    """Rule rows as imported (header in row 1): id, category, area, keywords, lead, assist,
    mode. Lists are separated by |, comma, 、 or spaces; an empty area is the whole city."""
    rules = []
    for number, row in enumerate(rows, start=first_row):
        rules.append(
            CatalogueRule(
                id=(row.get("id") or f"ROW{number}").strip(),
                category=(row.get("category") or "").strip().strip("/"),
                area_code=(row.get("area") or "").strip() or None,
                keywords=split_list(row.get("keywords")),
                lead_unit_id=(row.get("lead") or "").strip(),
                assist_unit_ids=split_list(row.get("assist")),
                version=version,
                mode=(row.get("mode") or "").strip() or None,
                row=number,
            )
        )
    return rules


def effective_version(versions: Iterable[tuple[int, datetime]], at: datetime) -> int | None:
    """The catalogue version in force at `at`: the latest `effective_from` not after it (the
    higher version number when two take effect together)."""
    best: tuple[datetime, int] | None = None
    for version, effective_from in versions:
        if effective_from <= at and (best is None or (effective_from, version) > best):
            best = (effective_from, version)
    return best[1] if best else None


@dataclass(frozen=True)
class Candidate:
    rule: CatalogueRule
    specificity: tuple[int, int, int]  # category depth, area rank, keyword count


def candidates(
    *, category: str, text: str, chain: Sequence[str], rules: Iterable[CatalogueRule]
) -> list[Candidate]:
    """Every rule that applies, most specific first: the explanation's supporting list."""
    found = []
    for rule in rules:
        if not category_matches(rule.category, category):
            continue
        if rule.area_code is not None and rule.area_code not in chain:
            continue
        if not all(k in text for k in rule.keywords):
            continue
        area_rank = len(chain) - chain.index(rule.area_code) if rule.area_code else 0
        found.append(Candidate(rule, (rule.category.count("/") + 1, area_rank, len(rule.keywords))))
    return sorted(found, key=lambda c: (tuple(-x for x in c.specificity), c.rule.id))
