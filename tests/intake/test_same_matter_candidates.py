"""Same-matter candidates for the operator (同一诉求候选, POST /api/v1/same-matter/candidates):
ranked by similarity, the caller's own tickets first among equals and with half the threshold,
at most five, texts redacted, operators and supervisors only, bad input a 422 problem."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from intake import domain
from shared.auth import Role
from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR, bearer

URL = "/api/v1/same-matter/candidates"
CALLER = "13800000001"
OTHER = "13800000002"
THIRD = "13800000003"

# Similarities to SAME under the same-matter measure (intake/similarity.py), for the record:
# PARAPHRASE 0.48 (above the 0.40 threshold), WEAK 0.34 (between half of it and it), ELSEWHERE 0.
SAME = (COMPLAINT["title"], COMPLAINT["description"])
PARAPHRASE = ("门口摆摊占道", "小区东门每天早上有小贩摆摊，占用道路，车开不出去。")
WEAK = ("东门有摊贩", "东门有人摆摊卖菜。")
ELSEWHERE = ("垃圾没人清运", "小区门口垃圾桶满了好几天没人清运，臭味很大。")


async def _ticket(api: httpx.AsyncClient, text: tuple[str, str], phone: str, **extra: Any) -> str:
    title, description = text
    body = {
        **COMPLAINT,
        "title": title,
        "description": description,
        "citizen": {"name": "王先生", "phone": phone},
        **extra,
    }
    r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _draft(text: tuple[str, str] = SAME, phone: str | None = CALLER, **extra: Any) -> dict:
    title, description = text
    return {
        "category": COMPLAINT["category"],
        "title": title,
        "description": description,
        "address": COMPLAINT["address"],
        **({"citizen": {"phone": phone}} if phone else {}),
        **extra,
    }


async def test_candidates_are_ranked_the_callers_own_first_among_equals(
    api: httpx.AsyncClient,
) -> None:
    others_same = await _ticket(api, SAME, OTHER)
    own_same = await _ticket(api, SAME, CALLER)
    paraphrase = await _ticket(api, PARAPHRASE, THIRD)
    own_weak = await _ticket(api, WEAK, CALLER)
    await _ticket(api, WEAK, OTHER)  # another citizen's needs the whole threshold
    await _ticket(api, ELSEWHERE, OTHER)  # the same place, another matter

    r = await api.post(URL, json=_draft(), headers=OPERATOR)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["area_code"] == "BJ010101" and answer["threshold"] == 0.40
    found = answer["candidates"]
    assert [c["ticket_id"] for c in found] == [own_same, others_same, paraphrase, own_weak]
    assert [c["same_citizen"] for c in found] == [True, False, False, True]
    assert found[0]["score"] == found[1]["score"] == 1.0
    assert 0.40 <= found[2]["score"] < 1.0 and 0.20 <= found[3]["score"] < 0.40
    first = found[0]
    assert (first["status"], first["status_text"]) in {
        ("received", "已受理"),
        ("dispatched", "已派单"),  # routing may have dispatched it by now
    }
    assert first["title"] == SAME[0] and first["category"] == COMPLAINT["category"]
    assert first["received_at"].endswith("+08:00")

    # Without the caller's phone, their own weak ticket is no longer evidence enough.
    anonymous = await api.post(URL, json=_draft(phone=None), headers=SUPERVISOR)
    assert anonymous.status_code == 200, anonymous.text
    ids = [c["ticket_id"] for c in anonymous.json()["candidates"]]
    assert ids == [*sorted([own_same, others_same]), paraphrase]
    assert not any(c["same_citizen"] for c in anonymous.json()["candidates"])


async def test_at_most_five_and_nothing_for_another_category(api: httpx.AsyncClient) -> None:
    for i in range(7):
        await _ticket(api, SAME, f"1390000000{i}")
    r = await api.post(URL, json=_draft(), headers=OPERATOR)
    assert len(r.json()["candidates"]) == 5
    other = _draft(category="城市管理/市容环境/垃圾清运")
    r = await api.post(URL, json=other, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["candidates"] == []


async def test_titles_and_summaries_are_redacted_even_for_operators(
    api: httpx.AsyncClient,
) -> None:
    long = SAME[1] + "这种情况已经持续一个多月了，多次反映都没有效果，周边居民意见很大。"
    said = ("我叫李建国，电话13912345678，" + long, "李建国反映" + SAME[0])
    await _ticket(
        api,
        (said[1], said[0]),
        OTHER,
        citizen={"name": "李建国", "phone": OTHER},
    )
    found = (await api.post(URL, json=_draft(), headers=OPERATOR)).json()["candidates"]
    assert len(found) == 1
    shown = found[0]["title"] + found[0]["summary"]
    assert "李建国" not in shown and "13912345678" not in shown
    assert "139****5678" in found[0]["summary"] and found[0]["summary"].endswith("…")


async def test_only_operators_and_supervisors(api: httpx.AsyncClient) -> None:
    for headers in (bearer(Role.UNIT, "U-BJ01-CG"), GATEWAY):
        r = await api.post(URL, json=_draft(), headers=headers)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await api.post(URL, json=_draft())).status_code == 401


async def test_bad_input_is_a_problem_naming_the_field(api: httpx.AsyncClient) -> None:
    cases = {
        "body.citizen.phone": _draft(phone="12"),
        "body.category": _draft(category="没有/这个/分类"),
        "body": {"category": COMPLAINT["category"], "address": COMPLAINT["address"]},
        "body.longitude/latitude": _draft(longitude=120.12),
        "body.title": _draft(text=("长" * 101, "x")),
    }
    for field, body in cases.items():
        r = await api.post(URL, json=body, headers=OPERATOR)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())


def test_the_route_is_documented_with_its_problems(intake_app: FastAPI) -> None:
    operation = intake_app.openapi()["paths"][URL]["post"]
    assert {"401", "403", "413", "422"} <= set(operation["responses"])
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SameMatterOut"
    }


# ---------------------------------------------------------------------------- confirming one


async def test_confirming_the_callers_own_ticket_links_the_report_as_a_repeat(
    api: httpx.AsyncClient,
) -> None:
    own = await _ticket(api, SAME, CALLER)
    body = {
        **COMPLAINT,
        "title": PARAPHRASE[0],
        "description": PARAPHRASE[1],
        "citizen": {"phone": CALLER},
        "same_matter_of": own,
    }
    r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text  # no new ticket: the caller's own, repeated
    ticket = r.json()
    assert ticket["id"] == own and ticket["repeat_count"] == 1
    found = await api.get(f"/api/v1/tickets/{own}", headers=OPERATOR)
    (repeat,) = found.json()["repeats"]
    assert repeat["title"] == PARAPHRASE[0] and 0.40 < repeat["similarity"] < 1.0
    listed = await api.get("/api/v1/tickets", headers=OPERATOR)
    assert [t["id"] for t in listed.json()] == [own]


async def test_confirming_another_citizens_ticket_files_one_that_names_it_and_clusters(
    api: httpx.AsyncClient,
) -> None:
    weak = await _ticket(api, WEAK, OTHER)  # 0.34 to SAME: not the same matter by text alone
    same = await _ticket(api, SAME, THIRD)
    body = {**COMPLAINT, "citizen": {"phone": CALLER}, "same_matter_of": weak}
    r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["id"] not in (weak, same) and ticket["same_matter_of"] == weak
    assert f"话务员确认与工单{weak}为同一诉求" in [e["text"] for e in ticket["timeline"]]
    # The confirmed ticket counts toward the cluster: three people, one matter.
    assert ticket["cluster_id"] is not None
    others = [
        (await api.get(f"/api/v1/tickets/{t}", headers=OPERATOR)).json() for t in (weak, same)
    ]
    assert {t["cluster_id"] for t in others} == {ticket["cluster_id"]}
    assert f"另有市民反映同一诉求，话务员已确认（工单{ticket['id']}）" in [
        e["text"] for e in others[0]["timeline"]
    ]
    # Citizens do not read another citizen's ticket number in their timeline.
    assert domain.citizen_line("ticket.same_matter_confirmed", "…") is None


async def test_without_a_confirmation_weak_evidence_links_nothing(api: httpx.AsyncClient) -> None:
    weak = await _ticket(api, WEAK, OTHER)
    await _ticket(api, SAME, THIRD)
    body = {**COMPLAINT, "citizen": {"phone": CALLER}}
    r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
    assert r.status_code == 201 and r.json()["cluster_id"] is None
    assert r.json()["same_matter_of"] is None
    assert (await api.get(f"/api/v1/tickets/{weak}", headers=OPERATOR)).json()["cluster_id"] is None


async def test_only_an_open_ticket_can_be_confirmed(api: httpx.AsyncClient) -> None:
    answered = await _ticket(
        api, ("咨询早市", "请问早市几点结束？"), OTHER, kind="consultation", answer="七点前结束。"
    )
    cases = {"20260101DEADBEEF00": 422, answered: 409}
    for ticket_id, status in cases.items():
        body = {**COMPLAINT, "citizen": {"phone": CALLER}, "same_matter_of": ticket_id}
        r = await api.post("/api/v1/tickets", json=body, headers=OPERATOR)
        assert r.status_code == status, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["body.same_matter_of"]
    listed = await api.get("/api/v1/tickets", headers=OPERATOR)
    assert [t["id"] for t in listed.json()] == [answered]  # nothing filed
