"""Urgency, kind and lead unit through intake's API (the demo city, real SQLite app): the
classify answer's top 3 for each, INTAKE_SUGGESTION_MIN_CONFIDENCE, the models route per
target; the labels intake's own tickets give: a kind the classification help filled in is
none, and the lead unit is the one finally dispatched (a re-dispatch after a return)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from intake import classify, examples, learning, modelstore
from intake.config import settings
from intake.models import Ticket
from tests.intake.test_channels_api import NATIVE, report
from tests.intake.test_learned_fields import KINDS, URGENCIES
from tests.intake.test_learning import STALLS, TEXTS, WAGES
from tests.intake.test_suggestion_api import demo_examples, store  # noqa: F401 (a fixture)
from tests.routing.helpers import lead_of, post, routed, settled, step, unit
from tests.support import OPERATOR, SUPERVISOR, eventually

JIANGBEI = "滨江市江北区长安街道阳光社区"
BINHAI = "滨江市滨海区海港街道"
UNIT_NAMES = {
    "U-BJ01-CG": "江北区城市管理委员会",
    "U-BJ02-CG": "滨海区城市管理委员会",
    "U-BJ-RS": "滨江市人力资源和社会保障局",
}


def unit_examples() -> list[learning.Example]:
    """Stalls go to the district's city management, by the address; unpaid wages to the city's
    labour bureau wherever they are."""
    found = []
    for i, (title, text) in enumerate(TEXTS[STALLS]):
        for unit_id, address in (("U-BJ01-CG", JIANGBEI), ("U-BJ02-CG", BINHAI)):
            context = classify.unit_context("城市管理/市容环境/占道经营", f"{address}{i}号")
            found.append(learning.Example(title, text, unit_id, context))
    for title, text in TEXTS[WAGES]:
        context = classify.unit_context("劳动保障/拖欠薪资", JIANGBEI)
        found.append(learning.Example(title, text, "U-BJ-RS", context))
    return found


def _labelled(rows: dict[str, list[tuple[str, str]]]) -> list[learning.Example]:
    return [learning.Example(t, d, label) for label, pairs in rows.items() for t, d in pairs]


@pytest.fixture
def models(store: Path) -> Iterator[Path]:  # noqa: F811 (the imported fixture)
    """A model in use for every target, each trained on hand-written examples."""
    data_dir = store.parent.parent
    modelstore.save(store, learning.fit(demo_examples()), {"macro_f1": 1.0}, source="test")
    for target, rows in (("kind", _labelled(KINDS)), ("urgency", _labelled(URGENCIES))):
        folder = modelstore.root(data_dir, target)
        modelstore.save(folder, learning.fit(rows), {"macro_f1": 1.0}, source="test")
    lead = learning.fit(unit_examples())
    lead.info["unit_names"] = UNIT_NAMES
    modelstore.save(modelstore.root(data_dir, "lead_unit"), lead, {}, source="test")
    modelstore.forget()
    yield data_dir
    settings.cache_clear()


async def test_classify_answers_the_top_3_of_urgency_kind_and_lead_unit(
    api: httpx.AsyncClient, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {
        "title": "摊贩占道",
        "description": "早市摊贩占道经营，想了解这种情况该找哪个部门",
        "address": "滨江市滨海区海港街道88号",
    }
    r = await api.post("/api/v1/classify", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text
    answer = r.json()
    for field in ("urgency_suggestion", "kind_suggestion"):
        learned = answer[field]
        labels = 2 if field == "urgency_suggestion" else 3  # the urgency model knows two
        assert learned["model_version"] == "v0001" and len(learned["top"]) == labels, field
        top = learned["top"]
        assert top[0]["probability"] >= top[1]["probability"] >= top[-1]["probability"]
        assert {c["value"] for c in top} <= {"emergency", "ordinary", "complex", *KINDS}
        if learned["source"] == "model":
            assert answer[field.split("_")[0]] == top[0]["value"]
    units = answer["lead_unit"]["top"]
    assert units[0]["unit_id"] == "U-BJ02-CG" and units[0]["unit_name"] == "滨海区城市管理委员会"
    assert len(units) == 3 and units[0]["probability"] > units[1]["probability"]
    assert units[0]["reasons"]
    jiangbei = {**body, "address": f"{JIANGBEI}东门"}
    r = await api.post("/api/v1/classify", json=jiangbei, headers=OPERATOR)
    assert r.json()["lead_unit"]["top"][0]["unit_id"] == "U-BJ01-CG"

    # Nothing is sure enough at 100%: the rules choose, the models' top 3 are still shown.
    monkeypatch.setenv("INTAKE_SUGGESTION_MIN_CONFIDENCE", "1.0")
    settings.cache_clear()
    sure = {"title": "燃气泄漏", "description": "请问楼道里有燃气泄漏的味道怎么办"}
    unsure = (await api.post("/api/v1/classify", json=sure, headers=OPERATOR)).json()
    assert (unsure["source"], unsure["category"]) == ("keywords", "公共服务/水电气/燃气")
    assert unsure["kind_suggestion"]["source"] == "keywords" and unsure["kind"] == "consultation"
    assert unsure["urgency"] == "emergency" and len(unsure["kind_suggestion"]["top"]) == 3
    shown = [*answer["urgency_suggestion"]["top"], *answer["kind_suggestion"]["top"], *units]
    assert not any("。" in reason for c in shown for reason in c["reasons"])  # no joins


async def test_supervisors_list_choose_and_roll_back_each_targets_models(
    api: httpx.AsyncClient, models: Path
) -> None:
    kinds = modelstore.root(models, "kind")
    second = modelstore.save(kinds, learning.fit(_labelled(KINDS)), {}, source="again")
    listed = await api.get("/api/v1/classify/models?target=kind", headers=SUPERVISOR)
    assert [(v["target"], v["name"], v["in_use"]) for v in listed.json()] == [
        ("kind", "v0001", True),
        ("kind", second, False),
    ]
    used = await api.post(f"/api/v1/classify/models/{second}/use?target=kind", headers=SUPERVISOR)
    assert used.status_code == 200 and used.json()["in_use"]
    assert modelstore.current_name(modelstore.root(models)) == "v0001"  # category untouched
    back = await api.post("/api/v1/classify/models/rollback?target=kind", headers=SUPERVISOR)
    assert back.json()["name"] == "v0001"
    bad = await api.get("/api/v1/classify/models?target=colour", headers=SUPERVISOR)
    assert bad.status_code == 422


async def test_a_kind_the_classification_help_filled_in_is_no_label(
    intake_app: FastAPI, api: httpx.AsyncClient
) -> None:
    given = (await report(api, "phone", NATIVE["phone"])).json()["ticket"]["id"]
    filled = (await report(api, "weibo", NATIVE["weibo"])).json()["ticket"]["id"]
    sessions = intake_app.state.runtimes["intake"].sessionmaker
    async with sessions() as session, session.begin():
        await session.execute(
            update(Ticket).where(Ticket.id.in_([given, filled])).values(status="closed")
        )
    async with sessions() as session:
        labelled = await examples.labelled_tickets(session)
        rows = {
            t.id: t
            for t in (await session.get(Ticket, given), await session.get(Ticket, filled))
            if t
        }
    assert (rows[given].kind_source, rows[filled].kind_source) == ("given", "suggested")
    assert [e.category for e in labelled.by_target["kind"]] == ["complaint"]  # the phone's
    assert [e.title for e in labelled.by_target["category"]] == ["早市摊贩占道经营"]
    assert labelled.by_target["urgency"] == []  # neither channel said how urgent


NOT_OURS = {"reason_code": "not_our_duty", "explanation": "该事项属街道属地管理职责。"}


async def test_the_lead_unit_label_is_the_unit_a_dispatcher_redispatched_to_after_a_return(
    intake_app: FastAPI, api: httpx.AsyncClient
) -> None:
    ticket_id = await post(api)
    first = lead_of(await settled(api, ticket_id, 2))
    assert first["unit_id"] == "U-BJ01-CG"  # the catalogue's rule
    await step(api, first, "sign")
    r = await api.post(
        f"/api/v1/assignments/{first['id']}/return", headers=unit("U-BJ01-CG"), json=NOT_OURS
    )
    assert r.status_code == 202, r.text
    ok = await api.post(
        f"/api/v1/returns/{r.json()['id']}/approve", headers=OPERATOR, json={"unit_id": "U-BJ0101"}
    )
    assert ok.status_code == 200, ok.text
    t = await routed(api, ticket_id)
    for assignment in sorted(
        (a for a in t["assignments"] if a["status"] not in ("returned", "withdrawn")),
        key=lambda a: a["role"] == "lead",  # the assisting units first
    ):
        await step(api, assignment, "sign", "contact")
        reply = await api.post(
            f"/api/v1/assignments/{assignment['id']}/reply",
            headers=unit(assignment["unit_id"]),
            json={"outcome": "solved", "explanation": "已清理占道摊位。"},
        )
        assert reply.status_code == 200, reply.text

    async def replied() -> examples.Labelled | None:
        async with intake_app.state.runtimes["intake"].sessionmaker() as session:
            found = await examples.labelled_tickets(session)
        return found if found.by_target["lead_unit"] else None

    labelled = await eventually(replied, what="intake to see the lead's reply")
    (example,) = labelled.by_target["lead_unit"]
    assert example.category == "U-BJ0101"  # the re-dispatch, not the unit that returned it
    assert labelled.unit_names == {"U-BJ0101": "江北区长安街道办事处"}
    assert "城市管理/市容环境/占道经营" in example.context and "阳光社区" in example.context
    assert "13800135678" not in example.context + example.description
