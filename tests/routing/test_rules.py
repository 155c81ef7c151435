"""routing's pure rules: catalogue conflicts and versions, unit roles, dispatch modes, the
return window, assistants' timeout, key supervision and whistle lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing import catalogue, domain
from routing.domain import CatalogueRule
from shared.errors import Conflict, InvalidInput

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PARENTS: dict[str, str | None] = {"BJ010101": "BJ0101", "BJ0101": "BJ01", "BJ01": "BJ", "BJ": None}
CHAIN = domain.area_chain("BJ010101", PARENTS)
UNITS_AT = {
    ("BJ0101", "street_office"): "U-BJ0101",
    ("BJ01", "district_government"): "U-BJ01",
    ("BJ010101", "community"): "U-BJ010101",
}


def rule(
    id_: str, category: str, area: str | None, *kw: str, lead: str = "U-X", row: int | None = None
) -> CatalogueRule:
    return CatalogueRule(id_, category, area, kw, lead, (), 1, row=row)


def test_rules_with_the_same_scope_conflict_and_are_named_by_row() -> None:
    rules = [
        rule("A", "城市管理/市容环境", "BJ01", row=2),
        rule("B", "城市管理/市容环境", "BJ01", lead="U-Y", row=7),
        rule("C", "城市管理/市容环境", "BJ01", "早市", row=8),  # narrower: keywords
        rule("D", "城市管理/市容环境", "BJ0101", row=9),  # narrower: area
        rule("E", "城市管理/市容环境", "BJ01", "夜市", row=10),  # same count, other keyword
    ]
    (found,) = catalogue.conflicts(rules)
    assert found.startswith("row 2 (A) and row 7 (B) conflict")
    assert "城市管理/市容环境" in found and "BJ01" in found


def test_keyword_order_does_not_hide_a_conflict() -> None:
    rules = [rule("A", "教育", None, "学校", "收费"), rule("B", "教育", None, "收费", "学校")]
    assert len(catalogue.conflicts(rules)) == 1


def test_equal_specificity_with_different_keywords_is_settled_by_rule_id() -> None:
    rules = [rule("Z", "教育", None, "学校"), rule("M", "教育", None, "收费")]
    decision = domain.lead_unit_for(category="教育", text="学校乱收费", chain=CHAIN, rules=rules)
    assert decision is not None and decision.rule is not None and decision.rule.id == "M"


def test_problems_name_unknown_units_roles_areas_and_modes() -> None:
    rules = [
        CatalogueRule(
            "A", "教育", "NOWHERE", (), "U-GHOST", ("role:mayor",), 1, mode="sideways", row=2
        ),
        CatalogueRule("A", "交通出行", None, (), "role:street_office", (), 1, row=3),
    ]
    found = catalogue.problems(rules, catalogue.Directory(frozenset({"BJ"}), frozenset({"U-1"})))
    text = " | ".join(found)
    assert "row 2 (A): unknown area NOWHERE" in text
    assert "unknown or inactive unit U-GHOST" in text
    assert "unknown unit role role:mayor" in text
    assert "unknown mode sideways" in text
    assert "row 3 (A): rule id A repeats row 2 (A)" in text
    assert not any("row 3 (A): unknown" in p for p in found)  # a role in the list is fine


def test_rows_are_read_with_lists_in_any_separator() -> None:
    (r,) = catalogue.rules_from_rows(
        [
            {
                "id": "R1",
                "category": "/城市管理/市容环境/",
                "area": "",
                "keywords": "早市、摊贩",
                "lead": "U-1",
                "assist": "U-2|U-3",
                "mode": "dual",
            }
        ],
        version=4,
    )
    assert (r.category, r.area_code, r.keywords, r.assist_unit_ids, r.mode, r.row) == (
        "城市管理/市容环境",
        None,
        ("早市", "摊贩"),
        ("U-2", "U-3"),
        "dual",
        2,
    )


def test_the_version_in_force_is_the_latest_effective_one() -> None:
    versions = [
        (1, T0 - timedelta(days=30)),
        (2, T0 + timedelta(days=1)),
        (3, T0 - timedelta(days=1)),
    ]
    assert catalogue.effective_version(versions, T0) == 3
    assert catalogue.effective_version(versions, T0 + timedelta(days=2)) == 2
    assert catalogue.effective_version(versions, T0 - timedelta(days=60)) is None


def test_a_role_is_the_unit_of_that_kind_nearest_the_ticket() -> None:
    assert domain.resolve_unit("role:street_office", CHAIN, UNITS_AT) == "U-BJ0101"
    assert domain.resolve_unit("role:community", CHAIN, UNITS_AT) == "U-BJ010101"
    assert domain.resolve_unit("role:street_office", ["BJ01", "BJ"], UNITS_AT) is None
    assert domain.resolve_unit("U-BJ-CG", CHAIN, UNITS_AT) == "U-BJ-CG"


def _decision(lead: str, *assist: str) -> domain.Decision:
    r = CatalogueRule("R", "城市管理", None, (), lead, assist, 1)
    return domain.Decision(lead, assist, r, "catalogue rule R (v1)")


@pytest.mark.parametrize(
    ("mode", "lead", "assists", "label"),
    [
        ("direct", "U-BJ0101", ("U-BJ-CG",), "direct"),
        ("level", "U-BJ01", (), "level"),
        ("dual", "U-BJ0101", ("U-BJ-CG", "U-BJ01"), "dual"),
    ],
)
def test_dispatch_modes(mode: str, lead: str, assists: tuple[str, ...], label: str) -> None:
    plan = domain.plan_dispatch(
        _decision("role:street_office", "U-BJ-CG"), mode=mode, chain=CHAIN, units_at=UNITS_AT
    )
    assert plan is not None
    assert (plan.lead_unit_id, plan.assist_unit_ids, plan.mode) == (lead, assists, label)
    if mode == "level":
        assert "to forward to U-BJ0101" in plan.reason


def test_level_mode_without_a_district_government_goes_direct() -> None:
    plan = domain.plan_dispatch(_decision("U-BJ-CG"), mode="level", chain=["BJ"], units_at=UNITS_AT)
    assert plan is not None and (plan.lead_unit_id, plan.mode) == ("U-BJ-CG", "direct")


def test_an_unresolvable_role_gives_no_plan() -> None:
    assert (
        domain.plan_dispatch(
            _decision("role:street_office"), mode="direct", chain=["BJ"], units_at=UNITS_AT
        )
        is None
    )


def test_returns_close_with_the_window_and_after_contact() -> None:
    domain.may_return("dispatched", T0, T0 + timedelta(hours=24), 24)
    domain.may_return("signed", T0, T0 + timedelta(hours=1), 24)
    with pytest.raises(Conflict) as late:
        domain.may_return("signed", T0, T0 + timedelta(hours=24, seconds=1), 24)
    assert late.value.extra["also_allowed"] == ["extension", "note"]
    assert late.value.extra["allowed_actions"] == ["contact"]
    with pytest.raises(Conflict):
        domain.may_return("contacted", T0, T0, 24)


def test_assistants_hold_up_the_lead_until_they_reply_or_time_out() -> None:
    a = domain.AssistantState("A1", "U-1", "signed", T0, None)
    b = domain.AssistantState("A2", "U-2", "replied", T0, None)
    c = domain.AssistantState("A3", "U-3", "dispatched", T0, T0 + timedelta(hours=5))  # sla breach
    assert domain.pending_assistants([a, b, c], T0 + timedelta(hours=71), 72) == [a]
    assert domain.pending_assistants([a, b, c], T0 + timedelta(hours=72), 72) == []


def test_unsolvable_replies_need_a_reason_and_a_legal_path() -> None:
    domain.check_reply("solved", None, None)
    with pytest.raises(InvalidInput, match="reason"):
        domain.check_reply("unsolvable", None, "行政复议")
    with pytest.raises(InvalidInput, match="legal_path"):
        domain.check_reply("unsolvable", "属民事纠纷", None)


def test_two_redispatches_mean_key_supervision_and_late_reports_are_late() -> None:
    assert [domain.under_key_supervision(n, 3) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert domain.report_is_late(T0 + timedelta(seconds=1), T0)
    assert not domain.report_is_late(T0, T0)
