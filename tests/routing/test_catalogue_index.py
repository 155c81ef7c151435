"""The catalogue indexed by category (routing.reference.DirectoryView.rules_for): a ticket's lead
unit is chosen among the rules of its category and the categories above it, and the choice is
the one the whole catalogue gives — on generated catalogues of two versions, categories of every
depth (and ones that only share a prefix of characters), areas and keywords."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import domain
from routing.domain import CatalogueRule
from routing.reference import DirectoryView, by_category

CATEGORIES = (
    "城市管理",
    "城市管理/市容环境",
    "城市管理/市容环境/占道经营",
    "城市管理/市容",  # shares characters with 市容环境, not a category above it
    "住房保障/物业服务",
    "住房保障/物业服务/电梯故障",
)
CHAIN = ("BJ010101", "BJ0101", "BJ01", "BJ")
KEYWORDS = ("夜市", "电梯", "噪音")

rules = st.builds(
    CatalogueRule,
    id=st.text("ABCDEF0123", min_size=2, max_size=4),
    category=st.sampled_from(CATEGORIES),
    area_code=st.sampled_from((None, *CHAIN, "BJ02")),
    keywords=st.lists(st.sampled_from(KEYWORDS), max_size=2, unique=True).map(tuple),
    lead_unit_id=st.sampled_from(("U1", "U2", "U3")),
    assist_unit_ids=st.just(()),
    version=st.sampled_from((1, 2)),
)


def view_of(catalogue: list[CatalogueRule]) -> DirectoryView:
    unique = {r.id: r for r in catalogue}.values()  # ids are unique in a catalogue
    of_version: dict[int, list[CatalogueRule]] = {}
    for rule in sorted(unique, key=lambda r: r.id):
        of_version.setdefault(rule.version, []).append(rule)
    return DirectoryView({}, {}, {}, [], of_version, by_category(of_version))


@settings(max_examples=400, deadline=None)
@given(
    catalogue=st.lists(rules, max_size=30),
    category=st.sampled_from(CATEGORIES),
    chain=st.lists(st.sampled_from(CHAIN), max_size=4, unique=True),
    text=st.lists(st.sampled_from((*KEYWORDS, "小区门口", "，")), max_size=4).map("".join),
    version=st.sampled_from((1, 2, 3)),
)
def test_the_rule_chosen_is_the_one_the_whole_catalogue_gives(
    catalogue: list[CatalogueRule], category: str, chain: list[str], text: str, version: int
) -> None:
    view = view_of(catalogue)

    def choose(among: list[CatalogueRule]) -> domain.Decision | None:
        return domain.lead_unit_for(category=category, text=text, chain=chain, rules=among)

    assert choose(view.rules_for(version, category)) == choose(view.rules_of(version))


def test_a_category_takes_the_rules_of_those_above_it_only() -> None:
    rule = CatalogueRule("R1", "城市管理/市容", None, (), "U1", (), 1)
    above = CatalogueRule("R2", "城市管理", None, (), "U2", (), 1)
    view = view_of([rule, above])
    assert view.rules_for(1, "城市管理/市容环境/占道经营") == [above]
    assert view.rules_for(1, "城市管理/市容/小广告") == [rule, above]
    assert view.rules_for(None, "城市管理") == [] and view.rules_for(2, "城市管理") == []
    assert view.version_at(datetime(2026, 1, 1, tzinfo=UTC)) is None
