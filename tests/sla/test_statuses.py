"""sla's statuses are `StrEnum`s (sla/domain.py) whose values are what the database stores and the
API shows: renaming a member is free, changing a value needs a migration and an API change."""

from __future__ import annotations

from enum import StrEnum

import pytest

from sla.domain import CaseStatus, ClockStatus, ExtensionStatus, TicketStatus, TimerState

STORED = [
    (TicketStatus, ["open", "answered", "closed"]),
    (ClockStatus, ["open", "done", "returned", "withdrawn", "redispatched", "closed"]),
    (TimerState, ["armed", "fired", "stopped", "skipped"]),
    (ExtensionStatus, ["pending", "approved", "refused", "lapsed"]),
    (CaseStatus, ["open", "resolved"]),
]


@pytest.mark.parametrize(("enum", "values"), STORED, ids=lambda x: getattr(x, "__name__", ""))
def test_the_values_are_those_stored_and_shown(enum: type[StrEnum], values: list[str]) -> None:
    assert [member.value for member in enum] == values


@pytest.mark.parametrize(("enum", "values"), STORED, ids=lambda x: getattr(x, "__name__", ""))
def test_a_member_is_its_stored_string(enum: type[StrEnum], values: list[str]) -> None:
    for member, value in zip(enum, values, strict=True):
        assert member == value and f"{member}" == value and enum(value) is member
