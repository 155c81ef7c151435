"""How often operators choose another category than the suggestion, per category (改判率).

Until intake records the suggestion shown with each ticket, the rate is measured the way the
model would be judged: the model in use suggests a category for each handled ticket whose
category an operator or the channel gave (`examples.from_tickets`), and a ticket counts as an
override when the operator's category is not the suggestion (or, with `prefill_only`, when the
suggestion would have been pre-filled and was not kept). Per category of the operator's choice:
how many tickets, how many the model would have pre-filled, how many of those the operator
overrode.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, examples
from intake.learning import CategoryModel, Example


@dataclass(frozen=True)
class OverrideRate:
    category: str  # the operator's final category
    tickets: int
    prefilled: int  # the model was sure enough to pre-fill
    overridden: int  # … and the operator chose another category

    @property
    def rate(self) -> float:
        return self.overridden / self.prefilled if self.prefilled else 0.0


def override_rates(
    model: CategoryModel,
    labelled: Sequence[Example],
    *,
    min_confidence: float = classify.MIN_CONFIDENCE,
) -> list[OverrideRate]:
    """Per final category, most overridden first (none without labelled tickets: the model
    is not asked about an empty set)."""
    if not labelled:
        return []
    tickets: dict[str, int] = defaultdict(int)
    prefilled: dict[str, int] = defaultdict(int)
    overridden: dict[str, int] = defaultdict(int)
    for example, top in zip(
        labelled, model.suggest_many([(e.title, e.description) for e in labelled]), strict=True
    ):
        tickets[example.category] += 1
        if top and top[0].probability >= min_confidence:
            prefilled[example.category] += 1
            overridden[example.category] += top[0].category != example.category
    rates = [OverrideRate(c, tickets[c], prefilled[c], overridden[c]) for c in sorted(tickets)]
    return sorted(rates, key=lambda r: (-r.rate, -r.tickets, r.category))


async def from_tickets(
    session: AsyncSession, model: CategoryModel, *, since: datetime | None = None
) -> list[OverrideRate]:
    """The override rates on intake's handled tickets (since a time)."""
    return override_rates(model, await examples.from_tickets(session, since=since))
