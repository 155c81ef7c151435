"""Pure rules of the slice: the calendar, the catalogue, the citizen's data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain import AreaName, citizen_ref, mask_phone, normalize_phone, resolve_area
from routing.domain import (
    CatalogueRule,
    area_chain,
    first_receiving_unit,
    lead_unit_for,
    next_status,
)
from shared.calendar import WorkingCalendar, add_working_days
from shared.errors import Conflict, InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def test_working_days_skip_the_national_day_holiday_and_count_the_make_up_saturday() -> None:
    # Tue 2026-09-29 10:00 → 30th (1), Oct 1–7 holiday, Thu 8th (2), Fri 9th (3), Sat 10th 调休 (4)
    start = datetime(2026, 9, 29, 10, 0, tzinfo=CHINA)
    assert add_working_days(start, 4, CAL) == datetime(2026, 10, 11, 0, 0, tzinfo=CHINA)


def test_overrides_change_single_days() -> None:
    start = datetime(2027, 3, 5, 10, 0, tzinfo=CHINA)  # a Friday
    closed_monday = WorkingCalendar({date(2027, 3, 8): False})
    assert add_working_days(start, 1, CAL).date() == date(2027, 3, 9)
    assert add_working_days(start, 1, closed_monday).date() == date(2027, 3, 10)


starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)).map(
    lambda d: d.replace(tzinfo=CHINA)
)


@given(start=starts, days=st.integers(min_value=1, max_value=30))
def test_a_deadline_ends_a_working_day_and_grows_with_n(start: datetime, days: int) -> None:
    due = add_working_days(start, days, CAL)
    last_day = (due - timedelta(seconds=1)).date()
    assert CAL.is_working_day(last_day)
    assert due > start
    assert add_working_days(start, days + 1, CAL) > due


def rule(
    id_: str, category: str, area: str | None, keywords: tuple[str, ...] = ()
) -> CatalogueRule:
    return CatalogueRule(id_, category, area, keywords, f"U-{id_}", (), 3)


RULES = [
    rule("city", "城市管理", None),
    rule("district", "城市管理/市容环境", "BJ01"),
    rule("street", "城市管理/市容环境", "BJ0101"),
    rule("market", "城市管理/市容环境/占道经营", "BJ01", ("早市",)),
]
CHAIN = area_chain("BJ010101", {"BJ010101": "BJ0101", "BJ0101": "BJ01", "BJ01": "BJ"})


@pytest.mark.parametrize(
    ("category", "text", "chain", "winner"),
    [
        ("城市管理/市容环境/占道经营", "早市摊贩", CHAIN, "market"),  # deepest category
        ("城市管理/市容环境/占道经营", "夜市摊贩", CHAIN, "street"),  # keyword absent
        ("城市管理/市容环境", "", ["BJ0102", "BJ01", "BJ"], "district"),  # another street
        ("城市管理/违法建设", "", CHAIN, "city"),  # only the city-wide parent matches
    ],
)
def test_the_most_specific_rule_leads_and_says_why(
    category: str, text: str, chain: list[str], winner: str
) -> None:
    decision = lead_unit_for(category=category, text=text, chain=chain, rules=RULES)
    assert decision is not None and decision.rule is not None
    assert decision.rule.id == winner
    assert f"catalogue rule {winner} (v3)" in decision.reason


def test_no_rule_falls_to_the_first_receiving_street_office() -> None:
    assert lead_unit_for(category="教育", text="", chain=CHAIN, rules=RULES) is None
    decision = first_receiving_unit(CHAIN, {"BJ0101": "U-BJ0101"})
    assert decision is not None and decision.lead_unit_id == "U-BJ0101"
    assert first_receiving_unit(["BJ"], {"BJ0101": "U-BJ0101"}) is None


def test_workflow_refuses_skipped_steps_naming_the_allowed_ones() -> None:
    assert next_status("dispatched", "sign") == "signed"
    with pytest.raises(Conflict) as refused:
        next_status("dispatched", "reply")
    assert refused.value.extra["allowed_actions"] == ["sign"]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800135678", "13800135678"),
        ("+86 138-0013-5678", "13800135678"),
        ("010-62345678", "01062345678"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, normal: str) -> None:
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12345", "23800135678", "138001356789", "电话"])
def test_non_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match=r"citizen\.phone"):
        normalize_phone(raw)


def test_personal_data_is_masked_and_pseudonymised() -> None:
    assert mask_phone("13800135678") == "138****5678"
    ref = citizen_ref("13800135678", "secret")
    assert ref == citizen_ref("13800135678", "secret") != citizen_ref("13800135678", "other")
    assert ref is not None and "13800135678" not in ref


GAZETTEER = [
    AreaName("BJ01", "district", ("江北区", "江北")),
    AreaName("BJ0101", "street", ("长安街道", "长安")),
    AreaName("BJ010101", "community", ("阳光社区",)),
    AreaName("BJ03", "district", ("青山区", "青山")),
]


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("滨江市江北区长安街道阳光社区东门", "BJ010101"),
        ("江北长安街道12号", "BJ0101"),
        ("青山区某路", "BJ03"),
        ("外省某地", None),
    ],
)
def test_address_text_resolves_to_the_most_specific_area(address: str, code: str | None) -> None:
    assert resolve_area(address, GAZETTEER) == code
