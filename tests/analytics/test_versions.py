"""Formula versions (口径版本) follow the configuration: one version names one exact set of
weights, exclusions, formulas and thresholds. And the coordination rate's rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from analytics import service, versions
from analytics.config import settings
from shared.auth import Role
from tests.analytics.streams import (
    at,
    called_back,
    deliver,
    dispatched,
    received,
    replied,
    returned,
)
from tests.support import SUPERVISOR, bearer

A, B, C = "U-BJ01-CG", "U-BJ0101", "U-BJ0102"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set analytics' configuration as an operator would (environment), then restore it."""

    def set_(name: str, value: str | None) -> None:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield set_
    monkeypatch.undo()
    settings.cache_clear()


def test_a_configuration_has_one_canonical_text_and_digest(configure: Any) -> None:
    first = service.configuration()
    assert versions.canonical(first) == versions.canonical(service.configuration())
    document = versions.canonical(first)
    assert '"partly_solved":0.5' in document and '"coordination_rate":' in document
    configure("ANALYTICS_PARTLY_SOLVED_WEIGHT", "0.6")
    changed = service.configuration()
    assert versions.digest(versions.canonical(changed)) != versions.digest(document)
    assert versions.next_label(2026, []) == "2026.1"
    assert versions.next_label(2026, ["2025.3", "2026.1", "2026.2"]) == "2026.3"


async def version_of(client: httpx.AsyncClient) -> str:
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["config_version"])


async def listed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/analytics/config-versions", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_a_changed_configuration_is_a_new_version(
    app: FastAPI, client: httpx.AsyncClient, configure: Any
) -> None:
    assert await version_of(client) == "2026.1"
    (v1,) = await listed(client)
    assert v1["version"] == "2026.1" and v1["in_force"] and len(v1["digest"]) == 64
    assert v1["configuration"]["weights"]["partly_solved"] == 0.5
    assert v1["configuration"]["exclusions"]["close_reasons"][:2] == ["invalid", "malicious"]
    assert "coordination_rate" in v1["configuration"]["formulas"]

    # A weight changes: the same label can no longer answer; a new version does.
    configure("ANALYTICS_PARTLY_SOLVED_WEIGHT", "0.6")
    assert await version_of(client) == "2026.2"
    old, new = await listed(client)
    assert old["configuration"] == v1["configuration"] and not old["in_force"]
    assert new["configuration"]["weights"]["partly_solved"] == 0.6 and new["in_force"]

    # Back to the first configuration: its own version again, nothing new stored.
    configure("ANALYTICS_PARTLY_SOLVED_WEIGHT", None)
    assert await version_of(client) == "2026.1"
    assert [v["version"] for v in await listed(client)] == ["2026.1", "2026.2"]


async def test_the_versions_are_for_the_centre_and_the_units_measured_by_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.get("/api/v1/analytics/config-versions", headers=bearer(Role.UNIT, B))
    assert r.status_code == 200 and r.json()[0]["configuration"]["formulas"]["satisfaction_rate"]
    r = await client.get("/api/v1/analytics/config-versions", headers=bearer(Role.GATEWAY))
    assert r.status_code == 403


def assisted(ticket: str, assists: list[tuple[str, bool]]) -> list[Any]:
    """Lead A with assisting units (unit, returned?); solved and satisfied on the 25th."""
    events = [
        *received(ticket, at(11, 23, 9)),
        *dispatched(ticket, f"{ticket}-L", A, at(11, 23, 10)),
    ]
    for i, (unit, gave_back) in enumerate(assists):
        events += dispatched(ticket, f"{ticket}-{i}", unit, at(11, 23, 10), role="assist")
        if gave_back:
            events.append(returned(ticket, f"{ticket}-{i}", unit, at(11, 23, 11)))
    events += replied(ticket, f"{ticket}-L", A, at(11, 24, 10))
    events += called_back(ticket, A, at(11, 25, 10), "solved", "satisfied")
    return events


async def test_an_assisting_unit_that_returned_the_ticket_did_not_coordinate(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(
        app,
        [
            *assisted("ALONE", []),  # no assisting unit
            *assisted("GAVE_BACK", [(B, True)]),  # its only assisting unit returned it
            *assisted("HELPED", [(B, True), (C, False)]),  # one returned, one took part
        ],
    )
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=SUPERVISOR,
    )
    coordination = r.json()["coordination_rate"]
    assert (coordination["numerator"], coordination["denominator"]) == (1, 1)  # HELPED only
