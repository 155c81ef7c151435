"""A storm: many people report one matter at one place within the hour. The cluster grows in
place, its events stay small, and a report costs the same work however large the cluster is."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from intake import directory, taxonomy
from intake.models import Cluster, ClusterReporter
from tests.intake.test_channels_api import events
from tests.support import COMPLAINT, GATEWAY, counting_statements

TEXTS = [
    "小区门口早市摊贩占道经营，车辆无法通行。",
    "早上小区门口摆摊占道，堵得车开不出去。",
    "门口早市摊贩占道经营，每天早上吆喝扰民。",
]


def storm_report(i: int, phone: str | None = None) -> dict[str, Any]:
    return {
        **COMPLAINT,
        "description": TEXTS[i % len(TEXTS)],
        "citizen": {"name": "市民", "phone": phone or f"1390000{i:04d}"},
    }


async def post(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post("/api/v1/tickets", json=body, headers=GATEWAY)
    assert r.status_code == 201, r.text
    ticket: dict[str, Any] = r.json()
    return ticket


async def test_a_storm_grows_one_cluster_in_place_with_small_events(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    tickets = [await post(api, storm_report(i)) for i in range(30)]
    # The same person reporting again (the form does not link repeats) is not a new reporter.
    tickets.append(await post(api, storm_report(99, phone=COMPLAINT["citizen"]["phone"])))
    tickets.append(await post(api, storm_report(98, phone=COMPLAINT["citizen"]["phone"])))

    clusters = {t["cluster_id"] for t in tickets[2:]}
    assert len(clusters) == 1 and None not in clusters
    assert [t["cluster_id"] for t in tickets[:2]] == [None, None]  # two people: no cluster yet
    flagged = await events(intake_app, "ticket.cluster_flagged")
    formed, *grown = (e["payload"] for e in flagged)
    assert sorted(formed["joined_ticket_ids"]) == sorted(t["id"] for t in tickets[:3])
    assert all(len(p["joined_ticket_ids"]) == 1 for p in grown)
    assert [p["size"] for p in flagged_payloads(flagged)] == list(range(3, len(tickets) + 1))
    assert grown[-1]["reporters"] == 31  # 30 citizens + the one who reported twice
    async with intake_app.state.runtimes["intake"].sessionmaker() as session:
        cluster = await session.get(Cluster, clusters.pop())
        assert cluster is not None and (cluster.size, cluster.reporters) == (32, 31)
        reporters = (await session.scalars(select(ClusterReporter.reporter))).all()
        assert len(reporters) == len(set(reporters)) == 31


def flagged_payloads(flagged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["payload"] for e in flagged]


async def test_a_report_costs_the_same_statements_at_the_5th_and_the_60th_member(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    engine = intake_app.state.runtimes["intake"].engine.sync_engine
    costs = {}
    for i in range(60):
        with counting_statements(engine) as statements:
            await post(api, storm_report(i))
        costs[i] = len(statements)
    assert costs[59] == costs[5], costs


async def test_a_directory_change_by_another_replica_is_seen_on_the_next_report(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    runtime = intake_app.state.runtimes["intake"]
    await post(api, storm_report(0))  # the directory is now cached
    new_category = {**storm_report(1), "category": "城市管理/新增类别"}
    assert (
        await api.post("/api/v1/tickets", json=new_category, headers=GATEWAY)
    ).status_code == 422

    # Another replica: its own engine on the same database loads the category.
    from shared.db import create_engine

    other = create_engine(str(runtime.engine.url))
    try:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        async with async_sessionmaker(other)() as session, session.begin():
            await taxonomy.load_taxonomy(session, ["城市管理/新增类别"])
    finally:
        await other.dispose()
    assert (await post(api, new_category))["category"] == "城市管理/新增类别"
    async with runtime.sessionmaker() as session:
        assert "城市管理/新增类别" in (await directory.current(session)).categories
