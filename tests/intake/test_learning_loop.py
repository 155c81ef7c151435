"""The learning loop on intake's own tickets (hand-written examples): handled tickets whose
category an operator gave are the labels, scrubbed of the citizen's phone and name; the model
in use answers intake's suggestion; override rates per category."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from intake import examples, learning, modelstore, overrides, taxonomy
from tests.support import OPERATOR

HEATING = "公共服务/供暖"
WAGES = "劳动保障/拖欠薪资"

ANSWERED = [
    (HEATING, "暖气不热", "家里暖气不热，室温只有十五度，请问什么时候能修好？"),
    (HEATING, "供暖温度", "请问供暖温度不达标可以找谁？"),
    (HEATING, "暖气漏水", "暖气管道漏水，请问报修电话是多少？"),
    (WAGES, "工资拖欠", "公司拖欠工资两个月，请问去哪里投诉？"),
    (WAGES, "欠薪", "包工头拖欠工钱，请问怎么维权？"),
    (WAGES, "讨薪", "老板不发工资，请问劳动监察在哪？"),
]


async def answer_consultation(
    api: httpx.AsyncClient, category: str, title: str, description: str
) -> None:
    """A consultation the operator answered on the spot: a handled ticket, a training label."""
    r = await api.post(
        "/api/v1/tickets",
        headers=OPERATOR,
        json={
            "channel": "phone",
            "kind": "consultation",
            "category": category,
            "title": title,
            "description": description,
            "address": "滨江市江北区长安街道阳光社区",
            "citizen": {"name": "李建国", "phone": "13912345678"},
            "answer": "已电话解答。",
        },
    )
    assert r.status_code == 201, r.text


async def test_handled_tickets_are_the_labels_scrubbed(
    intake_app: FastAPI, api: httpx.AsyncClient
) -> None:
    for category, title, text in ANSWERED:
        await answer_consultation(api, category, title, f"{text}我叫李建国，电话13912345678。")
    async with intake_app.state.runtimes["intake"].sessionmaker() as session:
        found = await examples.from_tickets(session)
    assert sorted(e.category for e in found) == sorted(c for c, _, _ in ANSWERED)
    for e in found:
        assert "13912345678" not in e.description and "李建国" not in e.description


async def test_the_model_in_use_answers_intakes_suggestion(
    intake_app: FastAPI,
    api: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [learning.Example(t, d, c) for c, t, d in ANSWERED] * 2
    model = learning.fit(rows)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    modelstore.forget()
    try:
        modelstore.save(modelstore.root(), model, {}, source="test")
        async with intake_app.state.runtimes["intake"].sessionmaker() as session:
            s = await taxonomy.suggest(session, "暖气不热", "家里暖气一点都不热")
        assert s.top and s.top[0].category == HEATING and s.model_version == "v0001"
        r = await api.post(
            "/api/v1/classify",
            headers=OPERATOR,
            json={"title": "暖气不热", "description": "家里暖气一点都不热"},
        )
        assert r.status_code == 200 and r.json()["category"] == HEATING
    finally:
        modelstore.forget()


def test_override_rates_count_only_what_would_have_been_prefilled() -> None:
    rows = [learning.Example(t, d, c) for c, t, d in ANSWERED] * 2
    model = learning.fit(rows)
    relabelled = [
        learning.Example("暖气不热", "家里暖气不热", WAGES),  # the operator chose otherwise
        learning.Example("工资拖欠", "公司拖欠工资", WAGES),
    ]
    rates = {r.category: r for r in overrides.replayed(model, relabelled, min_confidence=0)}
    assert rates[WAGES].tickets == 2 and rates[WAGES].prefilled == 2
    assert rates[WAGES].overridden == 1 and rates[WAGES].rate == 0.5
