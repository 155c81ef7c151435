"""Policies: the most specific in force wins, versions by effective date, validation, reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import WorkingCalendar
from shared.errors import InvalidInput
from sla import domain
from sla.policies import (
    DEFAULT_POLICIES,
    Limit,
    Policy,
    Reminder,
    Subject,
    policy_for,
    validate,
)

CHINA = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = Limit(1, "working_days")


def policy(code: str, version: int = 1, **kw: object) -> Policy:
    base = Policy(code, version, DAYS, DAYS, Limit(3, "working_days"), effective_from=T0)
    return replace(base, **kw)  # type: ignore[arg-type]


SUBJECT = Subject("complaint", "ordinary", "城市管理/市容环境/占道经营", "district")


def test_defaults_by_urgency() -> None:
    assert policy_for(SUBJECT, [], T0).label == "default-ordinary@v0"
    assert policy_for(replace(SUBJECT, urgency="emergency"), [], T0).completion == Limit(
        24, "hours"
    )
    assert {p.urgency for p in DEFAULT_POLICIES} == {"emergency", "ordinary", "complex"}


def test_the_most_specific_policy_in_force_wins() -> None:
    broad = policy("ordinary", urgency="ordinary")
    city = policy("city-mgmt", category="城市管理", urgency="ordinary")
    stalls = policy("stalls", category="城市管理/市容环境/占道经营")
    street = policy("street", unit_class="street")
    other = policy("heating", category="供暖")
    versions = [broad, city, stalls, street, other]
    assert policy_for(SUBJECT, versions, T0).code == "stalls"
    assert policy_for(replace(SUBJECT, unit_class="street"), versions, T0).code == "street"
    assert policy_for(replace(SUBJECT, category="城市管理/违法建设"), versions, T0).code == (
        "city-mgmt"
    )
    # 城市管理 does not match 城市管理局 as a prefix of a different word
    assert policy_for(replace(SUBJECT, category="城市管理局"), versions, T0).code == "ordinary"


def test_versions_take_effect_at_their_date_and_retire() -> None:
    v1 = policy("stalls", 1, category="城市管理")
    v2 = policy("stalls", 2, category="城市管理", effective_from=T0 + timedelta(days=10))
    v3 = policy("stalls", 3, category="城市管理", effective_from=T0 + timedelta(days=20))
    v3 = replace(v3, retired=True)
    versions = [v1, v2, v3]
    assert policy_for(SUBJECT, versions, T0 + timedelta(days=1)).label == "stalls@v1"
    assert policy_for(SUBJECT, versions, T0 + timedelta(days=11)).label == "stalls@v2"
    assert policy_for(SUBJECT, versions, T0 + timedelta(days=21)).code == "default-ordinary"
    assert policy_for(SUBJECT, versions, T0 - timedelta(days=1)).code == "default-ordinary"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sign": Limit(0, "hours")}, "sign.amount"),
        ({"completion": Limit(-2, "working_days")}, "completion.amount"),
        ({"response": Limit(1.5, "working_days")}, "response.amount"),
        ({"response": Limit(1, "fortnights")}, "response.unit"),  # type: ignore[arg-type]
        ({"completion": Limit(1000, "working_days")}, "completion.amount"),
        ({"reminders": (Reminder(fraction=1.0),)}, "reminders.0.fraction"),
        ({"reminders": (Reminder(fraction=0.5), Reminder(fraction=1.2))}, "reminders.1.fraction"),
        ({"reminders": (Reminder(hours_before=0),)}, "reminders.0.hours_before"),
        ({"reminders": (Reminder(hours_before=30),)}, "reminders.0.hours_before"),
        ({"reminders": (Reminder(),)}, "reminders.0"),
        ({"reminders": (Reminder(0.5), Reminder(0.5))}, "reminders"),
        ({"urgency": "whenever"}, "urgency"),
        ({"unit_class": "galaxy"}, "unit_class"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(replace(policy("p"), **change))  # type: ignore[arg-type]
    assert caught.value.extra["field"] == field


starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 1)).map(
    lambda d: d.replace(tzinfo=CHINA)
)


@given(start=starts, n=st.integers(1, 15), fraction=st.floats(0.05, 0.95))
def test_fraction_reminders_fall_on_working_days_before_the_deadline(
    start: datetime, n: int, fraction: float
) -> None:
    limit = Limit(n, "working_days")
    due = domain.due_at(start, limit, CAL)
    at = domain.remind_at(start, due, limit, Reminder(fraction=fraction), CAL)
    if at is None:  # only when the share of the budget rounds to the start itself
        return
    assert start < at < due
    assert CAL.is_working_day(at.astimezone(CHINA).date()) or at.astimezone(CHINA).time() == (
        datetime.min.time()
    )


def test_plan_has_a_deadline_and_its_reminders_per_stage() -> None:
    start = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
    p = policy("p", reminders=(Reminder(fraction=0.5), Reminder(hours_before=2)))
    planned = domain.plan(start, p, domain.ASSIGNMENT_STAGES, 0, CAL)
    completion = [t for t in planned if t.stage == "completion"]
    assert [(t.kind, t.threshold) for t in completion] == [
        ("deadline", ""),
        ("reminder", "50%"),
        ("reminder", "2h"),
    ]
    due = completion[0].due_at
    assert due == datetime(2026, 11, 27, 0, 0, tzinfo=CHINA)
    assert completion[2].due_at == due - timedelta(hours=2)
    extended = domain.plan(start, p, domain.ASSIGNMENT_STAGES, 2, CAL)
    assert [t.due_at for t in extended if t.kind == "deadline"][2] == datetime(
        2026, 12, 1, 0, 0, tzinfo=CHINA
    )
