"""Supervision (督办): when a ticket is raised to a supervision case, and how its level rises while
nothing happens. Pure rules.

Reasons a case opens:
- `overdue`: the ticket's overall completion deadline passed (超期);
- `redispatched`: the ticket was dispatched three times or more (re-dispatched twice: 多次转派);
- `cluster`: intake flagged a cluster (集中诉求: the same matter by text and place from several
  people; intake alone decides what a cluster is), one case per cluster;
- `unit_complaints`: three or more complaints about one matter against one unit (重复投诉).

Levels, lowest first: platform (平台督办) → phone (电话督办) → on site (现场督办) → escalated joint
supervision (联合督办). A case starts at `platform`; each level waits a number of working days
for something to happen on the ticket (a unit signs, contacts, replies, or gets an extension);
activity restarts the wait, silence raises the level.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shared.calendar import WorkingCalendar, extend_by_working_days

LEVELS = ("platform", "phone", "on_site", "joint")
# Working days each level waits for activity before the next one (the last level stays).
DEFAULT_WAITS: Mapping[str, int] = {"platform": 1, "phone": 2, "on_site": 3}

UNIT_COMPLAINTS = 3
REDISPATCH_COUNT = 3  # dispatch_count 3 = the first dispatch and two re-dispatches


def next_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def escalation_due(
    since: datetime,
    level: str,
    calendar: WorkingCalendar,
    waits: Mapping[str, int] = DEFAULT_WAITS,
) -> datetime | None:
    """When a case at `level`, quiet since `since`, rises; None at the top level. The wait
    counts whole working days after the day of `since` (a case opened at 24:00 waits through
    the next working day)."""
    if next_level(level) is None:
        return None
    return extend_by_working_days(since, waits[level], calendar)


def matter_key(category: str, area_code: str | None) -> str:
    """One matter (同一事项): the same category in the same area."""
    return f"{category}@{area_code or '-'}"


def is_redispatched(dispatch_count: int) -> bool:
    return dispatch_count >= REDISPATCH_COUNT


def is_repeated_against_unit(complaints: int) -> bool:
    return complaints >= UNIT_COMPLAINTS
