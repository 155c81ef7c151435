"""What the citizen adds after dispatch (补充诉求) reaches the units handling the ticket: intake
announces it (`ticket.info_added`) and routing shows it with the ticket's routing, to the
ticket's own units and the centre only."""

from __future__ import annotations

from typing import Any

import httpx

from tests.intake.test_channels_api import report, wechat
from tests.routing.helpers import lead_of, post, settled, unit
from tests.support import OPERATOR, SUPERVISOR, eventually


async def test_an_addition_reaches_the_units_with_the_ticket(client: httpx.AsyncClient) -> None:
    ticket_id = await post(client)
    routed = await settled(client, ticket_id)
    lead = lead_of(routed)["unit_id"]
    r = await client.post(
        f"/api/v1/tickets/{ticket_id}/info",
        json={"text": "摊贩晚上八点后又来了，补充两张照片。"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text

    async def shown() -> list[dict[str, Any]]:
        r = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=unit(lead))
        return list(r.json()["additions"])

    additions = await eventually(shown, what="the addition in routing")
    assert [(a["source"], a["text"]) for a in additions] == [
        ("operator", "摊贩晚上八点后又来了，补充两张照片。")
    ]
    centre = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=SUPERVISOR)
    assert centre.json()["additions"] == additions
    stranger = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=unit("U-BJ-GAS"))
    assert stranger.status_code == 403


async def test_the_citizen_reporting_again_is_shown_to_the_units(
    client: httpx.AsyncClient,
) -> None:
    first = await report(
        client,
        "wechat",
        wechat(
            "r1",
            "13600002222",
            "工地夜间施工",
            "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        ),
    )
    ticket_id = first.json()["ticket_id"]
    lead = lead_of(await settled(client, ticket_id))["unit_id"]
    again = await report(
        client,
        "wechat",
        wechat("r2", "13600002222", "又在半夜打桩", "半夜工地还在施工，打桩声音吵得睡不着觉。"),
    )
    assert again.json()["outcome"] == "repeat", again.text

    async def shown() -> list[dict[str, Any]]:
        r = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=unit(lead))
        return list(r.json()["additions"])

    additions = await eventually(shown, what="the repeat in routing")
    assert [(a["source"], a["text"]) for a in additions] == [
        ("repeat", "诉求人再次反映同一诉求（第1次重复）")
    ]
