"""analytics' rules besides the rates: periods, granularity, unit classes, areas, working days.
Pure functions: no database, no HTTP, no clock reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar

from shared.clock import CHINA
from shared.errors import InvalidInput

MAX_PERIOD_DAYS = 366 * 5

# How long a period may be for each granularity (days): more buckets than this is a mistake.
GRANULARITIES = ("day", "week", "month", "quarter", "year")
MAX_DAYS_FOR = {"day": 366, "week": 366 * 3, "month": 366 * 5, "quarter": 366 * 5, "year": 366 * 5}

# What `group_by` may name: the stored dimensions, the derived ones, and the periods.
DIMENSIONS = ("unit", "unit_class", "area", "district", "street", "category", "channel")
GROUP_BY_FIELDS = (*DIMENSIONS, "top_category", *GRANULARITIES)

# Unit classes for rankings (单位类别). The directory's unit kinds map onto them.
UNIT_CLASSES = ("district", "street", "department", "enterprise", "community")
KIND_TO_CLASS = {
    "city_department": "department",
    "district_department": "department",
    "district_government": "district",
    "street_office": "street",
    "community": "community",
    "enterprise": "enterprise",
}
# Name suffixes for units the directory does not list (checked in this order).
NAME_SUFFIX_CLASSES = (
    (("街道办事处", "镇人民政府", "乡人民政府", "街道"), "street"),
    (("区人民政府", "县人民政府", "市人民政府"), "district"),
    (("居民委员会", "村民委员会", "社区"), "community"),
    (("集团", "公司", "有限公司"), "enterprise"),
)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in China time: a period is whole local days, end inclusive."""
    check_period(start, end)
    return (
        datetime.combine(start, time(0), tzinfo=CHINA),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=CHINA),
    )


def check_period(start: date, end: date, granularity: str | None = None) -> None:
    if end < start:
        raise InvalidInput("to: the period ends before it starts.", field="to")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(f"to: a period may span at most {MAX_PERIOD_DAYS} days.", field="to")
    if granularity and (end - start).days >= MAX_DAYS_FOR[granularity]:
        raise InvalidInput(
            f"group_by: grouping by {granularity} allows periods of at most "
            f"{MAX_DAYS_FOR[granularity]} days; narrow 'from'/'to' or choose a coarser period.",
            field="group_by",
        )


def local_day(instant: datetime) -> date:
    """The China-time calendar day an instant falls on: the date that places it in a period."""
    return instant.astimezone(CHINA).date()


def period_start(day: date, granularity: str) -> date:
    """The first day of the day/week (Monday)/month/quarter/year containing `day`."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if granularity == "year":
        return date(day.year, 1, 1)
    raise InvalidInput(f"period: unknown period '{granularity}'.", field="period")


def period_end(first: date, granularity: str) -> date:
    """The last day of the period that starts on `first`."""
    if granularity == "day":
        return first
    if granularity == "week":
        return first + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    y, m = divmod(first.month - 1 + months, 12)
    return date(first.year + y, m + 1, 1) - timedelta(days=1)


def period_label(first: date, granularity: str) -> str:
    if granularity == "day":
        return first.isoformat()
    if granularity == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{first.year}-{first.month:02d}"
    if granularity == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def previous_period(first: date, granularity: str) -> tuple[date, date]:
    """The period just before the one that starts on `first`."""
    start = period_start(first - timedelta(days=1), granularity)
    return start, period_end(start, granularity)


def parse_group_by(raw: str | None) -> tuple[str, ...]:
    """`group_by=unit,month` → ("unit", "month"); at most one period granularity."""
    if not raw:
        return ()
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in GROUP_BY_FIELDS]
    if unknown:
        raise InvalidInput(
            f"group_by: unknown field(s) {', '.join(unknown)}; "
            f"choose from {', '.join(GROUP_BY_FIELDS)}.",
            field="group_by",
        )
    if len([n for n in names if n in GRANULARITIES]) > 1:
        raise InvalidInput("group_by: name at most one period granularity.", field="group_by")
    if len(set(names)) != len(names):
        raise InvalidInput("group_by: a field is named twice.", field="group_by")
    return names


def granularity_of(group_by: Iterable[str]) -> str | None:
    return next((g for g in group_by if g in GRANULARITIES), None)


def top_category(category: str) -> str:
    return category.split("/", 1)[0]


def category_at_level(category: str, level: int) -> str:
    return "/".join(category.split("/")[:level])


# --- the directory analytics keeps: unit kinds, area names and levels -----------------------


@dataclass(frozen=True)
class Directory:
    """Units' kinds and areas' names/levels/parents, from analytics' directory seed."""

    unit_kinds: Mapping[str, str]
    unit_names: Mapping[str, str]
    areas: Mapping[str, tuple[str, str, str | None]]  # code → (name, level, parent)

    def area_at_level(self, code: str, level: str) -> str:
        """The ancestor of `code` at `level` (district, street …), or `code` when unknown."""
        seen = code
        while seen in self.areas:
            _name, lvl, parent = self.areas[seen]
            if lvl == level:
                return seen
            if parent is None:
                break
            seen = parent
        return code

    def area_name(self, code: str) -> str:
        return self.areas[code][0] if code in self.areas else code


def directory_from(data: Mapping[str, Any]) -> Directory:
    return Directory(
        unit_kinds={u["id"]: u["kind"] for u in data.get("units", [])},
        unit_names={u["id"]: u["name"] for u in data.get("units", [])},
        areas={a["code"]: (a["name"], a["level"], a.get("parent")) for a in data.get("areas", [])},
    )


@lru_cache
def load_directory(path: Path | None) -> Directory:
    if path is None or not path.exists():
        return Directory({}, {}, {})
    return directory_from(json.loads(path.read_text("utf-8")))


def unit_class(unit_id: str, unit_name: str | None, directory: Directory) -> str:
    """The ranking class of a unit: from the directory's unit kind when listed, otherwise from
    its name (…街道办事处/…镇人民政府 → street, …区人民政府 → district, …居民委员会 →
    community, …集团/公司 → enterprise), otherwise department."""
    kind = directory.unit_kinds.get(unit_id)
    if kind in KIND_TO_CLASS:
        return KIND_TO_CLASS[kind]
    name = unit_name or directory.unit_names.get(unit_id) or ""
    for suffixes, cls in NAME_SUFFIX_CLASSES:
        if name.endswith(suffixes):
            return cls
    return "department"


# --- working days ------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    """The Chinese calendar (public holidays, make-up working days 调休) where the
    `chinesecalendar` package covers the year; Monday to Friday elsewhere."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def working_days_between(start: datetime, end: datetime) -> float:
    """Working days elapsed from `start` to `end`, in fractions of a day (China time): the part
    of each working day inside [start, end] counts; weekends and holidays do not."""
    if end <= start:
        return 0.0
    s, e = start.astimezone(CHINA), end.astimezone(CHINA)
    total = 0.0
    day = s.date()
    for _ in range(3700):  # ten years at most; a longer span is a data error, not a loop
        if day > e.date():
            break
        if is_working_day(day):
            lo = max(s, datetime.combine(day, time(0), tzinfo=CHINA))
            hi = min(e, datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA))
            total += max((hi - lo).total_seconds(), 0.0) / 86400
        day += timedelta(days=1)
    return round(total, 6)
