"""How often operators choose another category than the suggestion they were shown, per
category (改判率).

Measured on what was shown: the desk records with each ticket the categories the classification
help offered when the operator chose (`TicketIn.suggestion` → `suggested_top`,
`suggested_category`, `suggestion_model`), so an override is the operator's category differing
from the one offered first. Per category the operator chose, over the tickets whose category
an operator or channel gave (a category the classification help filled in by itself is nobody's
choice, and not counted): how many tickets, how many were taken with a suggestion shown, how
many of those the operator overrode, and how many chose a category not offered at all.

`replayed` is the other measure, kept for judging a model before it is put in use: a model
suggests again for each labelled ticket, and a ticket counts as an override when the operator's
category is not what it would have pre-filled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, examples
from intake.examples import Example
from intake.models import Ticket

if TYPE_CHECKING:  # the model's class loads scikit-learn: only where a model is in use
    from intake.learning import CategoryModel


@dataclass(frozen=True)
class OverrideRate:
    category: str  # the operator's final category
    tickets: int
    prefilled: int  # a suggestion was shown (recorded) / would have been pre-filled (replayed)
    overridden: int  # … and the operator chose another category than the one offered first
    outside_top: int = 0  # … and none of the categories offered (recorded only)

    @property
    def rate(self) -> float:
        return self.overridden / self.prefilled if self.prefilled else 0.0


def _ranked(rates: list[OverrideRate]) -> list[OverrideRate]:
    """Most overridden first."""
    return sorted(rates, key=lambda r: (-r.rate, -r.tickets, r.category))


async def as_shown(
    session: AsyncSession, *, since: datetime | None = None, model_version: str | None = None
) -> list[OverrideRate]:
    """The override rates on what the operators were shown, for the tickets received since
    `since` (with `model_version`, only those whose suggestion that model made), counted by the
    database per category; the categories offered are read only for the overridden tickets."""
    chosen: list[ColumnElement[bool]] = [
        (Ticket.category_source != "suggested") | Ticket.category_source.is_(None)
    ]
    if since is not None:
        chosen.append(Ticket.received_at >= since)
    if model_version is not None:
        chosen.append(Ticket.suggestion_model == model_version)
    overridden = Ticket.suggested_category.is_not(None) & (
        Ticket.suggested_category != Ticket.category
    )
    counts = await session.execute(
        select(
            Ticket.category,
            func.count(),
            func.count(Ticket.suggested_category),
            func.coalesce(func.sum(case((overridden, 1), else_=0)), 0),
        )
        .where(*chosen)
        .group_by(Ticket.category)
    )
    offered = await session.execute(
        select(Ticket.category, Ticket.suggested_top).where(*chosen, overridden)
    )
    outside = Counter(category for category, top in offered if category not in (top or ()))
    return _ranked(
        [
            OverrideRate(category, tickets, shown, int(overrides), outside[category])
            for category, tickets, shown, overrides in counts
        ]
    )


def replayed(
    model: CategoryModel,
    labelled: Sequence[Example],
    *,
    min_confidence: float = classify.MIN_CONFIDENCE,
) -> list[OverrideRate]:
    """Per final category, how often `model` would have pre-filled another category than the
    operator chose (none without labelled tickets: the model is not asked about an empty set)."""
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
    return _ranked(
        [OverrideRate(c, tickets[c], prefilled[c], overridden[c]) for c in sorted(tickets)]
    )


async def replayed_on_tickets(
    session: AsyncSession, model: CategoryModel, *, since: datetime | None = None
) -> list[OverrideRate]:
    """`replayed` on intake's handled tickets (since a time)."""
    return replayed(model, await examples.from_tickets(session, since=since))
