"""routing's rules: which unit leads, and what a unit may do next. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shared.errors import Conflict


@dataclass(frozen=True)
class CatalogueRule:
    id: str
    category: str  # a taxonomy path, "城市管理/市容环境"; matches itself and everything below
    area_code: str | None  # None: anywhere in the city
    keywords: tuple[str, ...]
    lead_unit_id: str
    assist_unit_ids: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class Decision:
    lead_unit_id: str
    assist_unit_ids: tuple[str, ...]
    rule: CatalogueRule | None
    reason: str


def category_matches(rule_category: str, category: str) -> bool:
    return category == rule_category or category.startswith(rule_category + "/")


def area_chain(area_code: str | None, parents: Mapping[str, str | None]) -> list[str]:
    """The area and its ancestors, most specific first: community, street, district, city."""
    chain: list[str] = []
    while area_code and area_code not in chain:
        chain.append(area_code)
        area_code = parents.get(area_code)
    return chain


def lead_unit_for(
    *,
    category: str,
    text: str,
    chain: Sequence[str],
    rules: Iterable[CatalogueRule],
) -> Decision | None:
    """The most specific catalogue rule that applies (主办单位).

    Specificity, compared in this order: the deeper category, then the narrower area (a rule
    for the ticket's street beats one for its district, which beats a city-wide rule), then
    more matching keywords. Rules with keywords apply only when every keyword is in the text.
    """
    best: tuple[tuple[int, int, int], CatalogueRule] | None = None
    for rule in rules:
        if not category_matches(rule.category, category):
            continue
        if rule.area_code is not None and rule.area_code not in chain:
            continue
        if not all(k in text for k in rule.keywords):
            continue
        area_rank = len(chain) - chain.index(rule.area_code) if rule.area_code else 0
        key = (rule.category.count("/") + 1, area_rank, len(rule.keywords))
        if best is None or key > best[0]:
            best = (key, rule)
    if best is None:
        return None
    rule = best[1]
    where = f"area {rule.area_code}" if rule.area_code else "the whole city"
    keywords = f", keywords {'、'.join(rule.keywords)}" if rule.keywords else ""
    return Decision(
        lead_unit_id=rule.lead_unit_id,
        assist_unit_ids=rule.assist_unit_ids,
        rule=rule,
        reason=f"catalogue rule {rule.id} (v{rule.version}): category {rule.category} in {where}{keywords}",
    )


def first_receiving_unit(
    chain: Sequence[str], street_office_by_area: Mapping[str, str]
) -> Decision | None:
    """首接负责: with no rule, the street office of the ticket's area leads, settle later."""
    for code in chain:
        if code in street_office_by_area:
            return Decision(
                lead_unit_id=street_office_by_area[code],
                assist_unit_ids=(),
                rule=None,
                reason=f"no catalogue rule matched; first-receiving street office of area {code}",
            )
    return None


# The unit's workflow: status → {action: next status}.
WORKFLOW: dict[str, dict[str, str]] = {
    "dispatched": {"sign": "signed"},
    "signed": {"contact": "contacted"},
    "contacted": {"reply": "replied"},
    "replied": {},
}


def next_status(status: str, action: str) -> str:
    allowed = WORKFLOW.get(status, {})
    if action not in allowed:
        raise Conflict(
            f"Cannot '{action}' an assignment that is '{status}'.",
            status_now=status,
            allowed_actions=sorted(allowed),
        )
    return allowed[action]


def may_request_extension(status: str) -> None:
    """延期 is asked while the work is under way: after signing, before the reply."""
    if status not in ("signed", "contacted"):
        raise Conflict(
            f"An extension is requested after signing and before replying; this assignment is '{status}'.",
            status_now=status,
            allowed_actions=sorted(WORKFLOW.get(status, {})),
        )


def handling_complete(lead_replied: bool, assistant_statuses: Iterable[str]) -> bool:
    """The lead's reply closes handling only when every assisting unit has replied."""
    return lead_replied and all(s == "replied" for s in assistant_statuses)
