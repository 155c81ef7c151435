"""The true override rate (改判率): the desk records with each ticket the category suggestion the
operator was shown, and the rate per category counts the operator's category differing from
the one offered first; categories the classification help filled in by itself are nobody's
choice and not counted."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR

STALLS = "城市管理/市容环境/占道经营"
GARBAGE = "城市管理/市容环境/垃圾清运"
URL = "/api/v1/classify/overrides"


async def _taken(
    api: httpx.AsyncClient,
    category: str,
    offered: list[str] | None,
    *,
    source: str = "model",
    model: str | None = "v0007",
) -> dict[str, Any]:
    body: dict[str, Any] = {**COMPLAINT, "category": category}
    if offered is not None:
        body["suggestion"] = {"top": offered, "source": source, "model_version": model}
    r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_the_override_rate_counts_what_the_operator_was_shown(
    api: httpx.AsyncClient,
) -> None:
    kept = await _taken(api, STALLS, [STALLS, GARBAGE])
    assert kept["suggestion"] == {
        "top": [STALLS, GARBAGE],
        "source": "model",
        "model_version": "v0007",
    }
    await _taken(api, STALLS, [GARBAGE, STALLS])  # overridden, among those offered
    await _taken(api, STALLS, [GARBAGE], source="keywords", model=None)  # none offered fits
    unrecorded = await _taken(api, STALLS, None)  # taken with nothing shown
    assert unrecorded["suggestion"] is None
    await _taken(api, GARBAGE, [GARBAGE], model="v0006")
    # A channel that gave no category: the suggestion filled it in, nobody chose it.
    sms = {"sms_id": "SMS-9", "from_number": "13812345678", "text": "和平里社区停水两天了。"}
    r = await api.post("/api/v1/channels/sms/reports", json=sms, headers=GATEWAY)
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["category_source"] == "suggested"

    r = await api.get(URL, headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    assert r.json() == [
        {
            "category": STALLS,
            "tickets": 4,
            "prefilled": 3,
            "overridden": 2,
            "outside_top": 1,
            "rate": 0.6667,
        },
        {
            "category": GARBAGE,
            "tickets": 1,
            "prefilled": 1,
            "overridden": 0,
            "outside_top": 0,
            "rate": 0.0,
        },
    ]
    one_model = await api.get(URL, params={"model_version": "v0007"}, headers=SUPERVISOR)
    assert one_model.json() == [
        {
            "category": STALLS,
            "tickets": 2,
            "prefilled": 2,
            "overridden": 1,
            "outside_top": 0,
            "rate": 0.5,
        }
    ]


async def test_a_suggestion_not_as_shown_is_refused(api: httpx.AsyncClient) -> None:
    cases = {
        "body.suggestion.top": {"top": [], "source": "model"},
        "body.suggestion.source": {"top": [STALLS], "source": "guess"},
    }
    cases_too_many = {"top": [STALLS, GARBAGE, STALLS, GARBAGE], "source": "keywords"}
    for field, suggestion in [*cases.items(), ("body.suggestion.top", cases_too_many)]:
        body = {**COMPLAINT, "suggestion": suggestion}
        r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert (await api.get("/api/v1/tickets", headers=OPERATOR)).json() == []


async def test_only_supervisors_see_override_rates(api: httpx.AsyncClient) -> None:
    assert (await api.get(URL, headers=OPERATOR)).status_code == 403
