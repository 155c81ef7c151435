"""Every metric through analytics' real consumer and API, on a hand-built event stream whose
answers are worked out by hand below (November 2026; 23rd–25th are ordinary working days)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.analytics.streams import (
    at,
    called_back,
    closed,
    contacted,
    deliver,
    dispatched,
    not_callable,
    received,
    reopened,
    replied,
    returned,
    signed,
    unreachable,
)
from tests.support import SUPERVISOR

A, B = "U-BJ01-CG", "U-BJ0101"  # a district department and a street office
NORMAL: dict[str, Any] = {
    "sign_by": at(11, 25, 0),
    "respond_by": at(11, 25, 0),
    "complete_by": at(12, 1, 0),
}


def november() -> list[Any]:
    """Seven tickets; what each contributes is noted beside it."""
    return [
        # T1: lead A in time, assisting B; replied on time; solved and satisfied (coordinated).
        *received("T1", at(11, 23, 10)),
        *dispatched("T1", "a1", A, at(11, 23, 10, 5), **NORMAL),
        *dispatched("T1", "a2", B, at(11, 23, 10, 5), role="assist", **NORMAL),
        signed("T1", "a1", A, at(11, 23, 11)),
        contacted("T1", "a1", A, at(11, 23, 12)),
        *replied("T1", "a1", A, at(11, 24, 10)),
        *called_back("T1", A, at(11, 25, 10), "solved", "satisfied"),
        # T2: lead A signs late; completion deadline the 25th 00:00, replied the 25th 10:00
        # (late); partly solved, basically satisfied.
        *received("T2", at(11, 23, 11)),
        *dispatched(
            "T2",
            "a3",
            A,
            at(11, 23, 11, 5),
            sign_by=at(11, 25, 0),
            respond_by=at(11, 25, 0),
            complete_by=at(11, 25, 0),
        ),
        signed("T2", "a3", A, at(11, 25, 9)),
        contacted("T2", "a3", A, at(11, 25, 10)),
        *replied("T2", "a3", A, at(11, 25, 10)),
        *called_back("T2", A, at(11, 26, 10), "partly_solved", "basically_satisfied"),
        # T3: A returns it (退单); B leads, in time; unsolved and dissatisfied → re-opened,
        # round 2 to B, not replied yet: not completed.
        *received("T3", at(11, 23, 12)),
        *dispatched("T3", "a4", A, at(11, 23, 12, 5), **NORMAL),
        returned("T3", "a4", A, at(11, 23, 15)),
        *dispatched("T3", "a5", B, at(11, 23, 15, 5), count=2, **NORMAL),
        signed("T3", "a5", B, at(11, 23, 16)),
        contacted("T3", "a5", B, at(11, 23, 16, 30)),
        *replied("T3", "a5", B, at(11, 24, 16)),
        *called_back("T3", B, at(11, 25, 10), "unsolved", "dissatisfied", close=False),
        reopened("T3", B, at(11, 25, 10, 30), 2),
        *dispatched("T3", "a6", B, at(11, 25, 11), count=3, round_=2, **NORMAL),
        # T4: a consultation answered on the spot; called back, solved and satisfied.
        *received("T4", at(11, 24, 9), kind="consultation", answered=True),
        *called_back("T4", None, at(11, 24, 15), "solved", "satisfied"),
        # T5: B in time, replied; the citizen cannot be reached.
        *received("T5", at(11, 24, 10)),
        *dispatched("T5", "a7", B, at(11, 24, 10, 5), **NORMAL),
        signed("T5", "a7", B, at(11, 24, 10, 30)),
        contacted("T5", "a7", B, at(11, 24, 11)),
        *replied("T5", "a7", B, at(11, 24, 17)),
        *unreachable("T5", B, at(11, 25, 9)),
        # T6: anonymous: not callable.
        *received("T6", at(11, 24, 11), anonymous=True),
        *dispatched("T6", "a8", B, at(11, 24, 11, 5), **NORMAL),
        signed("T6", "a8", B, at(11, 24, 11, 30)),
        contacted("T6", "a8", B, at(11, 24, 12)),
        *replied("T6", "a8", B, at(11, 24, 18)),
        *not_callable("T6", B, at(11, 25, 9), "anonymous"),
        # T7: closed as a malicious request: excluded from every rate.
        *received("T7", at(11, 24, 12)),
        *dispatched("T7", "a9", A, at(11, 24, 12, 5), **NORMAL),
        closed("T7", at(11, 24, 13), "invalid: malicious harassment"),
    ]


async def rates(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-01", "to": "2026-11-30", **params},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def triple(body: dict[str, Any], name: str) -> tuple[Any, Any, Any]:
    return body[name]["numerator"], body[name]["denominator"], body[name]["value"]


async def test_every_metric_city_wide(app: FastAPI, client: httpx.AsyncClient) -> None:
    await deliver(app, november())
    body = await rates(client)
    assert body["config_version"] == "2026.1"
    counts = body["counts"]
    assert (counts["received"], counts["excluded"], counts["answered"]) == (7, 1, 1)
    # 响应率: leads not returned a1 a3 a5 a6 a7 a8 (a4 returned, a9 excluded); in time a1 a5
    # a7 a8 → 4/6.
    assert triple(body, "response_rate") == (4, 6, 0.6667)
    # 解决率: T1 solved, T2 partly, T3 unsolved, T4 solved → (2 + 0.5) / 4.
    assert triple(body, "resolution_rate") == (2.5, 4, 0.625)
    # 满意率: T1, T4 satisfied, T2 basically → (2 + 0.8) / 4.
    assert triple(body, "satisfaction_rate") == (2.8, 4, 0.7)
    # 办结率: T1 T2 T4 T5 T6 of the six not excluded (T3 re-opened, not replied again).
    assert triple(body, "completion_rate") == (5, 6, 0.8333)
    # 按时办结率: T2 replied after its deadline → 4/5.
    assert triple(body, "on_time_completion_rate") == (4, 5, 0.8)
    # 重办率: T3 of the five dispatched.
    assert triple(body, "reopen_rate") == (1, 5, 0.2)
    # 退单率: a4 of the eight assignments a1–a8.
    assert triple(body, "return_rate") == (1, 8, 0.125)
    # 协同解决率: only T1 had an assisting unit, and it is solved.
    assert triple(body, "coordination_rate") == (1, 1, 1.0)
    # 回访率: handled T1–T5 (T6 not callable); verdicts T1–T4 (T5 unreachable) → 4/5.
    assert triple(body, "callback_coverage") == (4, 5, 0.8)
    assert (counts["not_callable"], counts["unreachable"]) == (1, 1)
    # Handling days, dispatch → reply: T1 1435 min, T2 2815 min, T5 415, T6 415 → Σ 5080 min
    # = 3.527778 working days over 4 tickets → 0.88.
    avg = body["average_handling_days"]
    assert avg["count"] == 4 and abs(avg["total"] - 5080 / 1440) < 1e-4 and avg["value"] == 0.88
    # 综合得分 = 100 × (0.1 × 4/6 + 0.45 × 0.625 + 0.45 × 0.7) = 66.29.
    assert body["composite_score"] == 66.29


async def test_per_unit_and_group_by(app: FastAPI, client: httpx.AsyncClient) -> None:
    await deliver(app, november())
    a = await rates(client, unit_id=A)
    assert triple(a, "response_rate") == (1, 2, 0.5)  # a1 in time, a3 late
    assert triple(a, "resolution_rate") == (1.5, 2, 0.75)  # T1, T2
    assert triple(a, "satisfaction_rate") == (1.8, 2, 0.9)
    assert triple(a, "completion_rate") == (2, 2, 1.0)  # T1, T2 (T7 excluded)
    assert a["composite_score"] == 79.25  # 100 × (0.05 + 0.3375 + 0.405)

    grouped = await rates(client, group_by="unit_class,month")
    by_class = {g["key"]["unit_class"]: g for g in grouped["groups"]}
    assert triple(by_class["department"], "response_rate") == (1, 2, 0.5)
    assert triple(by_class["street"], "response_rate") == (3, 4, 0.75)  # a5 a7 a8 of a5–a8
    assert by_class["street"]["key"]["period"] == "2026-11"
    # Answered on the spot has no unit.
    assert by_class[None]["counts"]["answered"] == 1

    days = await rates(client, group_by="day", category="城市管理")
    assert [g["key"]["period"] for g in days["groups"]] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
    ]
    assert sum(g["counts"]["received"] for g in days["groups"]) == 7


async def test_duplicates_are_counted_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    events = november()
    await deliver(app, events)
    once = await rates(client, group_by="unit")
    await deliver(app, events[::3])  # at-least-once delivery: some events again
    assert await rates(client, group_by="unit") == once
