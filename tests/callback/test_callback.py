"""回访: every handled ticket called back, the two verdicts, re-opening, self-rating, sampling."""

from __future__ import annotations

import uuid
from datetime import timedelta
from itertools import product
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from callback import domain
from callback.models import CallbackAttempt, CallbackTask, outbox
from shared.auth import Role
from shared.bus import bus_log
from shared.clock import FrozenClock
from shared.errors import Conflict, InvalidInput
from shared.events import Envelope
from tests.slice import Clients, assignments_of, handle, post_complaint, ticket
from tests.support import (
    COMPLAINT,
    GATEWAY,
    MONDAY_10AM,
    OPERATOR,
    SUPERVISOR,
    bearer,
    eventually,
)

SATISFIED = {"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"}
UNSOLVED = {"contacted_by_unit": True, "solved": "unsolved", "satisfaction": "dissatisfied"}


def clients(client: httpx.AsyncClient) -> Clients:
    return Clients(client, client, client, client, client)


async def callbacks_of(client: httpx.AsyncClient, ticket_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/callbacks", params={"ticket_id": ticket_id}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return list(r.json())


async def handled_ticket(client: httpx.AsyncClient, **changes: Any) -> tuple[str, dict[str, Any]]:
    """A complaint dispatched, handled by its units, and waiting for its callback."""
    c = clients(client)
    ticket_id = (await post_complaint(c, **changes))["id"]

    async def dispatched() -> list[dict[str, Any]] | None:
        found = await assignments_of(c, ticket_id)
        return found if len(found) == 2 else None

    work = await eventually(dispatched, what="dispatch")
    for a in sorted(work, key=lambda a: a["role"] == "lead"):
        await handle(c, a)

    async def callback() -> list[dict[str, Any]]:
        return await callbacks_of(client, ticket_id)

    (task,) = await eventually(callback, what="the callback")
    return ticket_id, task


async def status_becomes(client: httpx.AsyncClient, ticket_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        t = await ticket(clients(client), ticket_id)
        return t if t["status"] == status else None

    return await eventually(probe, what=f"ticket status {status}")


async def reopened(client: httpx.AsyncClient, ticket_id: str) -> dict[str, Any]:
    """Wait for the re-open in the ticket's timeline (its status moves on at once)."""

    async def probe() -> dict[str, Any] | None:
        t = await ticket(clients(client), ticket_id)
        return t if any(e["event"] == "ticket.reopened" for e in t["timeline"]) else None

    return await eventually(probe, what="the re-open in the timeline")


async def bus_events(app: FastAPI, ticket_id: str, type_: str) -> list[Envelope]:
    async with app.state.bus.engine.connect() as conn:
        bodies = (await conn.execute(select(bus_log.c.body))).scalars().all()
    return [
        e
        for e in map(Envelope.model_validate_json, bodies)
        if e.ticket_id == ticket_id and e.type == type_
    ]


# ---- the rules -----------------------------------------------------------------------------

VERDICTS = list(
    product(
        ["solved", "partly_solved", "unsolved"],
        ["satisfied", "basically_satisfied", "dissatisfied"],
    )
)


@pytest.mark.parametrize(("solved", "satisfaction"), VERDICTS)
def test_each_verdict_combination_closes_or_may_reopen(solved: str, satisfaction: str) -> None:
    assert (
        domain.decide(
            solved=solved, satisfaction=satisfaction, reopen=False, round_=1, max_reopens=2
        )
        == "close"
    )
    negative = solved != "solved" or satisfaction == "dissatisfied"
    if negative:
        assert (
            domain.decide(
                solved=solved, satisfaction=satisfaction, reopen=True, round_=1, max_reopens=2
            )
            == "reopen"
        )
    else:
        with pytest.raises(InvalidInput, match="reopen"):
            domain.decide(
                solved=solved, satisfaction=satisfaction, reopen=True, round_=1, max_reopens=2
            )


def test_reopening_is_limited() -> None:
    assert (
        domain.decide(
            solved="unsolved", satisfaction="dissatisfied", reopen=True, round_=3, max_reopens=3
        )
        == "reopen"
    )
    with pytest.raises(Conflict, match="limit 2"):
        domain.decide(
            solved="unsolved", satisfaction="dissatisfied", reopen=True, round_=3, max_reopens=2
        )


def test_retry_spacing_rule() -> None:
    """回访重拨间隔: the first attempt any time, each later one only the spacing after the last."""
    spacing = timedelta(hours=2)
    assert domain.next_attempt_at(None, spacing) is None
    domain.ensure_attempt_allowed(None, MONDAY_10AM, spacing)
    assert domain.next_attempt_at(MONDAY_10AM, spacing) == MONDAY_10AM + spacing
    domain.ensure_attempt_allowed(MONDAY_10AM, MONDAY_10AM + spacing, spacing)  # on the dot
    with pytest.raises(Conflict, match="12:00") as refused:
        domain.ensure_attempt_allowed(
            MONDAY_10AM, MONDAY_10AM + spacing - timedelta(seconds=1), spacing
        )
    assert refused.value.extra["next_attempt_at"] == "2026-11-23T12:00:00+08:00"
    assert refused.value.extra["retry_after"] == 1


def test_unreachable_only_after_the_configured_attempts() -> None:
    spacing = timedelta(hours=2)
    assert domain.after_failed_attempt(2, 3, MONDAY_10AM, spacing) == (
        "due",
        MONDAY_10AM + spacing,
    )
    assert domain.after_failed_attempt(3, 3, MONDAY_10AM, spacing) == ("unreachable", MONDAY_10AM)
    assert domain.after_failed_attempt(3, 4, MONDAY_10AM, spacing)[0] == "due"


def test_callbacks_go_to_operators_in_turn() -> None:
    assert [domain.operator_in_turn(n, ["a", "b"]) for n in range(5)] == ["a", "b", "a", "b", "a"]
    assert domain.operator_in_turn(3, []) is None


# ---- through the platform ----------------------------------------------------------------


async def test_every_replied_ticket_gets_one_callback_even_when_delivered_twice(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id, task = await handled_ticket(client)
    assert (task["status"], task["round"], task["source"]) == ("due", 1, "reply")
    assert task["assigned_to"] in ("operator-01", "operator-02")
    (replied,) = await bus_events(app, ticket_id, "ticket.replied")
    # The same event again, and the same reply announced under a new event id.
    await app.state.bus.publish([replied, replied.model_copy(update={"event_id": uuid.uuid4()})])
    await eventually(lambda: _offset_caught_up(app, "callback"), what="callback to consume")
    assert len(await callbacks_of(client, ticket_id)) == 1


async def _offset_caught_up(app: FastAPI, consumer: str) -> bool:
    from sqlalchemy import func

    from shared.bus import bus_offsets

    async with app.state.bus.engine.connect() as conn:
        last = await conn.scalar(select(func.max(bus_log.c.offset)))
        done = await conn.scalar(
            select(bus_offsets.c.offset).where(bus_offsets.c.consumer == consumer)
        )
    return bool(done and done >= last)


async def test_satisfied_verdict_closes_the_ticket(client: httpx.AsyncClient) -> None:
    ticket_id, task = await handled_ticket(client)
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json=SATISFIED
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision"], r.json()["operator"]) == (
        "completed",
        "close",
        "test-operator",
    )
    await status_becomes(client, ticket_id, "closed")
    again = await client.post(
        f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json=SATISFIED
    )
    assert again.status_code == 409 and again.json()["allowed_actions"] == ["redo"]


async def test_reopened_ticket_goes_back_to_the_lead_and_gets_a_fresh_callback(
    client: httpx.AsyncClient,
) -> None:
    c = clients(client)
    ticket_id, task = await handled_ticket(client)
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={**UNSOLVED, "reopen": True, "reopen_reason": "摊贩第二天又回来了"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "reopen"
    after = await reopened(client, ticket_id)
    assert any("第2轮重新办理：摊贩第二天又回来了" in e["text"] for e in after["timeline"])
    assert after["status"] in ("reopened", "dispatched")

    async def second_round() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["round"] == 2), None)

    lead2 = await eventually(second_round, what="the re-handling assignment")
    assert (lead2["role"], lead2["unit_id"], lead2["status"]) == ("lead", "U-BJ01-CG", "dispatched")
    assert "重办（第2轮）" in lead2["reason"]
    await handle(c, lead2)  # the lead alone handles the re-handling round

    async def fresh() -> list[dict[str, Any]] | None:
        found = await callbacks_of(client, ticket_id)
        return found if len(found) == 2 else None

    first, second = await eventually(fresh, what="the second round's callback")
    assert (first["round"], first["status"]) == (1, "completed")
    assert (second["round"], second["status"], second["id"]) == (2, "due", f"CB{ticket_id}-2")


async def test_reopen_of_a_satisfied_verdict_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    _, task = await handled_ticket(client)
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={**SATISFIED, "reopen": True},
    )
    assert r.status_code == 422 and "reopen" in r.json()["detail"]
    assert (await client.get(f"/api/v1/callbacks/{task['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "due"


@pytest.mark.parametrize(
    "bad", [{"solved": "maybe"}, {"satisfaction": "很满意"}, {"contacted_by_unit": "perhaps"}]
)
async def test_verdicts_outside_the_scale_are_refused(
    client: httpx.AsyncClient, bad: dict[str, Any]
) -> None:
    _, task = await handled_ticket(client)
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json={**SATISFIED, **bad}
    )
    assert r.status_code == 422 and next(iter(bad)) in r.json()["detail"]
    assert (await client.get(f"/api/v1/callbacks/{task['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "due"


async def test_unreachable_citizens_are_retried_then_closed(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    """Unreachable only after CALLBACK_MAX_ATTEMPTS (3) attempts, CALLBACK_RETRY_SPACING_HOURS
    (2 h) apart."""
    ticket_id, task = await handled_ticket(client)
    url = f"/api/v1/callbacks/{task['id']}/attempts"
    first = (await client.post(url, headers=OPERATOR, json={"outcome": "no_answer"})).json()
    assert first["status"] == "due" and first["due_at"] == "2026-11-23T12:00:00+08:00"  # 2 h later
    clock.advance(timedelta(hours=2))
    second = (await client.post(url, headers=OPERATOR, json={"outcome": "busy"})).json()
    assert second["status"] == "due" and second["due_at"] == "2026-11-23T14:00:00+08:00"
    clock.advance(timedelta(hours=1, minutes=59))
    early = await client.post(url, headers=OPERATOR, json={"outcome": "powered_off"})
    assert early.status_code == 409, early.text
    assert (early.json()["next_attempt_at"], early.json()["retry_after"]) == (
        "2026-11-23T14:00:00+08:00",
        60,
    )
    clock.advance(timedelta(minutes=1))
    last = (await client.post(url, headers=OPERATOR, json={"outcome": "powered_off"})).json()
    assert last["status"] == "unreachable"
    assert [a["outcome"] for a in last["attempts"]] == ["no_answer", "busy", "powered_off"]
    await status_becomes(client, ticket_id, "closed")
    (unreachable,) = await bus_events(app, ticket_id, "callback.unreachable")
    assert unreachable.payload["attempts"] == 3
    r = await client.post(url, headers=OPERATOR, json={"outcome": "busy"})
    assert r.status_code == 409 and r.json()["allowed_actions"] == []


async def _stored(app: FastAPI, callback_id: str, ticket_id: str) -> tuple[int, int, int]:
    """callback's own rows for one callback: attempts, its attempt counter, outbox events."""
    async with app.state.runtimes["callback"].sessionmaker() as session:
        attempts = await session.scalar(
            select(func.count())
            .select_from(CallbackAttempt)
            .where(CallbackAttempt.callback_id == callback_id)
        )
        counter = await session.scalar(
            select(CallbackTask.attempts).where(CallbackTask.id == callback_id)
        )
        events = await session.scalar(
            select(func.count())
            .select_from(outbox.table)
            .where(outbox.table.c.ticket_id == ticket_id)
        )
    return int(attempts or 0), int(counter or 0), int(events or 0)


async def test_attempts_in_a_row_are_refused_with_the_next_allowed_time_and_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id, task = await handled_ticket(client)
    url = f"/api/v1/callbacks/{task['id']}/attempts"
    first = await client.post(url, headers=OPERATOR, json={"outcome": "no_answer"})
    assert first.status_code == 200, first.text
    before = await client.get(f"/api/v1/callbacks/{task['id']}", headers=OPERATOR)
    stored = await _stored(app, task["id"], ticket_id)
    assert stored[:2] == (1, 1)
    clock.advance(timedelta(minutes=30))
    for outcome in ("busy", "powered_off"):  # the 2nd and 3rd attempts, straight after
        r = await client.post(url, headers=OPERATOR, json={"outcome": outcome})
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["next_attempt_at"] == "2026-11-23T12:00:00+08:00"  # 10:00 + 2 h
        assert problem["retry_after"] == 90 * 60 and r.headers["retry-after"] == "5400"
        assert "12:00" in problem["detail"]
        assert problem["status_now"] == "due" and "record_attempt" not in problem["allowed_actions"]
        assert "record_result" in problem["allowed_actions"]
    after = await client.get(f"/api/v1/callbacks/{task['id']}", headers=OPERATOR)
    assert after.json() == before.json()  # status, due time, the one attempt
    assert await _stored(app, task["id"], ticket_id) == stored
    assert await bus_events(app, ticket_id, "callback.unreachable") == []


async def test_a_verdict_may_be_recorded_between_attempts(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id, task = await handled_ticket(client)
    url = f"/api/v1/callbacks/{task['id']}/attempts"
    assert (await client.post(url, headers=OPERATOR, json={"outcome": "busy"})).status_code == 200
    clock.advance(timedelta(minutes=10))  # the citizen calls back, or answers a minute later
    assert (await client.post(url, headers=OPERATOR, json={"outcome": "busy"})).status_code == 409
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json=SATISFIED
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision"], len(r.json()["attempts"])) == (
        "completed",
        "close",
        1,
    )
    await status_becomes(client, ticket_id, "closed")
    assert len(await bus_events(app, ticket_id, "callback.completed")) == 1
    # A redone callback starts afresh: its first attempt is not held back by the old ones.
    redo = await client.post(
        f"/api/v1/callbacks/{task['id']}/redo", headers=SUPERVISOR, json={"reason": "复核"}
    )
    assert redo.status_code == 200, redo.text
    again = await client.post(url, headers=OPERATOR, json={"outcome": "no_answer"})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "due"


async def test_anonymous_tickets_are_not_callable(client: httpx.AsyncClient) -> None:
    ticket_id, task = await handled_ticket(client, citizen={"anonymous": True})
    assert (task["status"], task["exclusion_reason"]) == ("excluded", "anonymous")
    await status_becomes(client, ticket_id, "closed")


async def test_a_citizen_who_declines_is_excluded(client: httpx.AsyncClient) -> None:
    _, task = await handled_ticket(client)
    r = await client.post(f"/api/v1/callbacks/{task['id']}/decline", headers=OPERATOR)
    assert (r.json()["status"], r.json()["exclusion_reason"]) == ("excluded", "declined")


async def test_on_the_spot_answer_is_never_dispatched_but_called_back(
    client: httpx.AsyncClient,
) -> None:
    consultation = {
        **COMPLAINT,
        "kind": "consultation",
        "category": "教育",
        "title": "咨询入学政策",
        "answer": "适龄儿童持户口簿到片区学校登记即可。",
    }
    assert (
        await client.post("/api/v1/tickets", json=consultation, headers=GATEWAY)
    ).status_code == 403
    wrong = await client.post(
        "/api/v1/tickets", json={**consultation, "kind": "complaint"}, headers=OPERATOR
    )
    assert wrong.status_code == 422 and "answer" in wrong.json()["detail"]
    r = await client.post("/api/v1/tickets", json=consultation, headers=OPERATOR)
    assert r.status_code == 201 and r.json()["status"] == "answered"
    ticket_id = r.json()["id"]

    async def callback() -> list[dict[str, Any]]:
        return await callbacks_of(client, ticket_id)

    (task,) = await eventually(callback, what="the callback of the answered ticket")
    assert (task["source"], task["round"], task["lead_unit_id"]) == ("answer", 1, None)
    assert await assignments_of(clients(client), ticket_id) == []
    await client.post(f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json=SATISFIED)
    await status_becomes(client, ticket_id, "closed")


async def test_citizen_rates_once_with_a_token_bound_to_the_round(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ticket_id, task = await handled_ticket(client)
    link = (
        await client.post(f"/api/v1/callbacks/{task['id']}/rating-link", headers=OPERATOR)
    ).json()
    assert link["url"].endswith(link["token"]) and task["id"] in link["token"]
    rating = {
        **SATISFIED,
        "token": link["token"],
        "channel": "miniprogram",
        "comment": "处理得很及时",
    }

    forged = await client.post(
        "/api/v1/ratings", json={**rating, "token": link["token"][:-3] + "AAA"}
    )
    assert forged.status_code == 401 and "token" in forged.json()["detail"]
    other_round = link["token"].replace(f"-{task['round']}.", "-2.")
    assert (
        await client.post("/api/v1/ratings", json={**rating, "token": other_round})
    ).status_code == 401

    r = await client.post("/api/v1/ratings", json=rating)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["channel"], r.json()["operator"]) == (
        "completed",
        "miniprogram",
        None,
    )
    reused = await client.post("/api/v1/ratings", json=rating)
    assert reused.status_code == 409
    await status_becomes(client, ticket_id, "closed")


async def test_an_expired_rating_link_is_refused(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, task = await handled_ticket(client)
    link = (
        await client.post(f"/api/v1/callbacks/{task['id']}/rating-link", headers=OPERATOR)
    ).json()
    clock.advance(timedelta(hours=73))
    r = await client.post("/api/v1/ratings", json={**SATISFIED, "token": link["token"]})
    assert r.status_code == 410
    assert (await client.get(f"/api/v1/callbacks/{task['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "due"


async def test_a_negative_self_rating_waits_for_the_operators_judgement(
    client: httpx.AsyncClient,
) -> None:
    ticket_id, task = await handled_ticket(client)
    link = (
        await client.post(f"/api/v1/callbacks/{task['id']}/rating-link", headers=OPERATOR)
    ).json()
    r = await client.post("/api/v1/ratings", json={**UNSOLVED, "token": link["token"]})
    assert r.json()["status"] == "review" and r.json()["allowed_actions"] == ["decide"]
    d = await client.post(
        f"/api/v1/callbacks/{task['id']}/decision",
        headers=OPERATOR,
        json={"reopen": True, "reason": "市民反映仍有摊贩"},
    )
    assert d.json()["decision"] == "reopen"
    await reopened(client, ticket_id)


async def test_supervisors_sample_and_have_callbacks_redone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id, task = await handled_ticket(client)
    await client.post(f"/api/v1/callbacks/{task['id']}/result", headers=OPERATOR, json=SATISFIED)
    assert (
        await client.post("/api/v1/callbacks/samples", headers=OPERATOR, json={"size": 5})
    ).status_code == 403
    sample = (
        await client.post(
            "/api/v1/callbacks/samples", headers=SUPERVISOR, json={"size": 5, "seed": 1}
        )
    ).json()
    assert [s["id"] for s in sample] == [task["id"]]
    redo = await client.post(
        f"/api/v1/callbacks/{task['id']}/redo",
        headers=SUPERVISOR,
        json={"reason": "录音显示未询问是否解决"},
    )
    assert (redo.json()["status"], redo.json()["revision"]) == ("due", 2)
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={**SATISFIED, "satisfaction": "basically_satisfied"},
    )
    assert r.json()["revision"] == 2

    async def two_verdicts() -> list[Envelope] | None:
        found = await bus_events(app, ticket_id, "callback.completed")
        return found if len(found) == 2 else None

    verdicts = await eventually(two_verdicts, what="the redone verdict")
    assert [(v.payload["revision"], v.payload["satisfaction"]) for v in verdicts] == [
        (1, "satisfied"),
        (2, "basically_satisfied"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/api/v1/callbacks/X/result", Role.UNIT),
        ("POST", "/api/v1/callbacks/X/attempts", Role.SUPERVISOR),
        ("POST", "/api/v1/callbacks/X/redo", Role.OPERATOR),
        ("POST", "/api/v1/callbacks/X/rating-link", Role.CITIZEN),
        ("GET", "/api/v1/callbacks", Role.GATEWAY),
    ],
)
async def test_callback_endpoints_admit_only_their_roles(
    client: httpx.AsyncClient, method: str, path: str, role: Role
) -> None:
    r = await client.request(method, path, headers=bearer(role, "U-BJ01-CG"), json={})
    assert r.status_code == 403
