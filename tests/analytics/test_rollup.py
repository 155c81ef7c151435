"""The monthly roll-up: its pure rules, and every query answering the same from it as from the
daily rows alone (whole months, partial months at the edges, filters at every grain)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from analytics import aggregates, rollup, service
from analytics.aggregates import Filters
from analytics.facts import Key
from analytics.rates import Tally
from shared.events import Envelope
from tests.analytics.streams import at, deliver, handled_ticket
from tests.analytics.test_metrics import november
from tests.support import SUPERVISOR

UNIT_AREA_CATEGORY = rollup.grain_of(["unit_id", "area_code", "category"])


def test_rollup_sums_each_month_at_every_grain() -> None:
    deltas = {
        Key(date(2026, 10, 3), "U1", "BJ0101", "a/b", "phone"): Tally(received=2, verdicts=1),
        Key(date(2026, 10, 30), "U1", "BJ0102", "a/b", "app"): Tally(received=1),
        Key(date(2026, 11, 1), "U2", "BJ0101", "a/c", "phone"): Tally(received=5),
    }
    rows = rollup.rollup(deltas)
    october, november_ = date(2026, 10, 1), date(2026, 11, 1)
    assert rows[rollup.MonthKey(0, october, "", "", "", "")] == Tally(received=3, verdicts=1)
    assert rows[rollup.MonthKey(0, november_, "", "", "", "")] == Tally(received=5)
    assert rows[rollup.MonthKey(1, october, "U1", "", "", "")] == Tally(received=3, verdicts=1)
    assert rows[rollup.MonthKey(6, october, "", "BJ0102", "a/b", "")] == Tally(received=1)
    full = [k for k in rows if k.grain == rollup.FULL]
    assert len(full) == 3 and len(rows) == 2 + 2 + 3 + 3
    # Every grain sums to the same month's total.
    for grain in rollup.GRAINS:
        assert rollup.rollup(deltas, [grain]).keys() <= rows.keys()
        october_total = sum(
            (t for k, t in rows.items() if k.grain == grain and k.month == october), Tally()
        )
        assert october_total == Tally(received=3, verdicts=1)


def test_changes_that_cancel_within_a_month_leave_the_roll_up_alone() -> None:
    # A callback redone two days later: −1 on the 3rd, +1 on the 5th, same unit and month.
    deltas = {
        Key(date(2026, 10, 3), "U1", "A", "c", "phone"): Tally(verdicts=-1, solved=-1),
        Key(date(2026, 10, 5), "U1", "A", "c", "phone"): Tally(verdicts=1, solved=1),
        Key(date(2026, 10, 5), "U2", "A", "c", "phone"): Tally(received=1),
    }
    rows = rollup.rollup(deltas)
    assert all(k.unit_id != "U1" for k in rows)
    assert rows[rollup.MonthKey(0, date(2026, 10, 1), "", "", "", "")] == Tally(received=1)


@pytest.mark.parametrize(
    ("needed", "grain"),
    [
        ((), 0),
        (("unit_id",), 1),
        (("area_code",), 6),
        (("category",), 6),
        (("area_code", "category"), 6),
        (("channel",), rollup.FULL),
        (("unit_id", "area_code"), rollup.FULL),
    ],
)
def test_the_coarsest_grain_that_keeps_what_a_query_needs(
    needed: tuple[str, ...], grain: int
) -> None:
    assert rollup.choose_grain(needed) == grain


@pytest.mark.parametrize(
    ("first", "last", "months", "days"),
    [
        ("2026-10-01", "2026-10-31", ("2026-10-01", "2026-10-01"), []),
        ("2026-01-01", "2026-12-31", ("2026-01-01", "2026-12-01"), []),
        ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01"), []),
        ("2026-10-15", "2026-10-31", None, [("2026-10-15", "2026-10-31")]),
        ("2026-10-01", "2026-10-30", None, [("2026-10-01", "2026-10-30")]),
        ("2026-11-03", "2026-11-03", None, [("2026-11-03", "2026-11-03")]),
        ("2026-09-30", "2026-10-01", None, [("2026-09-30", "2026-10-01")]),
        (
            "2026-09-15",
            "2026-12-20",
            ("2026-10-01", "2026-11-01"),
            [("2026-09-15", "2026-09-30"), ("2026-12-01", "2026-12-20")],
        ),
        ("2026-12-01", "2027-01-05", ("2026-12-01", "2026-12-01"), [("2027-01-01", "2027-01-05")]),
        ("2026-11-02", "2026-12-31", ("2026-12-01", "2026-12-01"), [("2026-11-02", "2026-11-30")]),
    ],
)
def test_a_period_is_whole_months_and_the_days_at_its_edges(
    first: str, last: str, months: tuple[str, str] | None, days: list[tuple[str, str]]
) -> None:
    split = rollup.split_period(date.fromisoformat(first), date.fromisoformat(last))
    expected = tuple(date.fromisoformat(d) for d in months) if months else None
    assert split.months == expected
    assert split.days == tuple(tuple(date.fromisoformat(d) for d in r) for r in days)


def test_grouping_by_day_or_the_switch_reads_only_daily_rows() -> None:
    first, last = date(2026, 10, 1), date(2026, 11, 30)
    assert aggregates.plan(first, last, Filters(), ("unit_id",)).grain == 1
    assert aggregates.plan(first, last, Filters(channel="phone"), ()).grain == rollup.FULL
    assert aggregates.plan(first, last, Filters(), ("day",)) == (None, None, ((first, last),))
    with aggregates.daily_only():
        assert aggregates.plan(first, last, Filters(), ()) == (None, None, ((first, last),))
    assert aggregates.plan(first, last, Filters(), ()).grain == 0


def stream() -> list[Envelope]:
    """November's tickets plus ordinary ones from September to December over three units, two
    districts' areas and two categories."""
    out = list(november())
    units = ["U-BJ0102", "U-BJ0103", "U-BJ0201"]
    areas = ["BJ010201", "BJ010301", "BJ020101"]
    categories = ["城市管理/市容环境/占道经营", "住房保障/物业管理"]
    for i in range(24):
        out += handled_ticket(
            f"R{i}",
            units[i % 3],
            at(9 + i % 4, 2 + (i * 5) % 26, 9),
            solved=["solved", "partly_solved", "unsolved"][i % 3],
            satisfaction=["satisfied", "basically_satisfied", "dissatisfied"][(i // 3) % 3],
            in_time=i % 5 != 0,
            category=categories[(i // 4) % 2],
            area=areas[(i // 2) % 3],
        )
    return out


PERIODS = [
    (date(2026, 10, 1), date(2026, 10, 31)),
    (date(2026, 9, 1), date(2026, 12, 31)),
    (date(2026, 9, 15), date(2026, 11, 24)),
    (date(2026, 11, 23), date(2026, 11, 25)),
    (date(2026, 1, 1), date(2026, 12, 31)),
]
FILTERS = [
    Filters(),
    Filters(unit_ids=["U-BJ0102", "U-BJ01-CG"]),
    Filters(area_code="BJ01"),
    Filters(category="城市管理"),
    Filters(channel="phone"),
    Filters(unit_ids=["U-BJ0201"], area_code="BJ02", category="住房保障"),
]
GROUPS = [(), ("unit",), ("area", "category"), ("district", "top_category"), ("channel",)]
GROUPS += [("unit", "month"), ("quarter",), ("week",), ("day", "unit")]


async def test_every_query_answers_the_same_from_the_roll_up_as_from_daily_rows(
    app: FastAPI,
) -> None:
    await deliver(app, stream())
    async with app.state.runtimes["analytics"].sessionmaker() as session:

        async def answers() -> list[Any]:
            out: list[Any] = []
            for first, last in PERIODS:
                for f in FILTERS:
                    out.append(await service.period_tally(session, first, last, f))
                    for g in GROUPS:
                        out.append(
                            await service.grouped(
                                session, first=first, last=last, filters=f, group_by=g
                            )
                        )
                out.append(
                    await service.ranking(
                        session, first=first, last=last, unit_class=None, metric="composite_score"
                    )
                )
            for granularity in ("week", "month", "quarter"):
                out.append(
                    await service.hot_topics(
                        session,
                        first=date(2026, 11, 1) if granularity != "week" else date(2026, 11, 23),
                        granularity=granularity,
                        category_level=1,
                        area_level="district",
                        filters=Filters(),
                    )
                )
            return out

        from_rollup = await answers()
        with aggregates.daily_only():
            from_daily = await answers()
    assert from_rollup == from_daily
    # The answers are not empty: the stream lands in every period asked about.
    totals = [t for t in from_rollup if isinstance(t, Tally)]
    assert sum(t.received for t in totals) > 100 and all(t.received for t in totals[:5])


async def test_the_api_figures_are_the_same_from_either_table(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, stream())

    async def figures() -> list[Any]:
        out = []
        for params in (
            {"from": "2026-09-01", "to": "2026-11-30", "group_by": "unit,month"},
            {"from": "2026-09-10", "to": "2026-12-20", "area": "BJ01", "group_by": "category"},
        ):
            r = await client.get("/api/v1/analytics/rates", params=params, headers=SUPERVISOR)
            assert r.status_code == 200, r.text
            out.append(r.json())
        r = await client.get(
            "/api/v1/analytics/rankings", params={"month": "2026-10"}, headers=SUPERVISOR
        )
        assert r.status_code == 200, r.text
        out.append(r.json())
        return out

    from_rollup = await figures()
    with aggregates.daily_only():
        from_daily = await figures()
    assert from_rollup == from_daily
    assert from_rollup[0]["groups"]


async def test_refilling_the_roll_up_in_sql_gives_the_incremental_rows(app: FastAPI) -> None:
    await deliver(app, stream())
    table = aggregates.MONTHLY
    order = list(table.primary_key.columns)
    async with app.state.runtimes["analytics"].sessionmaker() as session:
        incremental = (await session.execute(select(table).order_by(*order))).all()
        await aggregates.refill_monthly(session)
        await session.commit()
        refilled = (await session.execute(select(table).order_by(*order))).all()
    assert len(incremental) > 50
    assert [tuple(r) for r in refilled] == [tuple(r) for r in incremental]
