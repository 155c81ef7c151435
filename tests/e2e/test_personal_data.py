"""Personal data stays in intake (issue 11), over a full run of the embedded platform.

Citizens report through several channels with their phone, ID-card and bank-card numbers and
their names typed into the text; the tickets are dispatched, handled, replied to and called
back. Then every other service's tables (every column), the bus log, every outbox body and the
captured logs (DEBUG) are searched for each of those values: none may appear. intake's own
tables hold no phone or name in clear either, apart from the original texts operators read
(what the citizen said, as they said it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from intake import directory, taxonomy
from services import demo
from shared.auth import Role
from tests.support import OPERATOR, SUPERVISOR, bearer, eventually

GATEWAY = bearer(Role.GATEWAY)
STALLS = "城市管理/市容环境/占道经营"
ADDRESS = "滨江市江北区长安街道阳光社区东门"

# Each citizen: their phone as the channel sends it, the phone written in the text, a name.
PHONES = ["13912340001", "13912340002", "13912340003", "13912340004", "13912340005"]
IN_TEXT = ["13812349001", "13812349002", "13812349003", "13812349004", "13812349005"]
NAMES = ["王秀英", "李建国", "张丽华", "赵志强", "陈美玲", "刘德明"]
ID_CARDS = ["11010519491231002X", "440524188001010014"]
BANK_CARD = "6222021234567890128"
LANDLINE_LOCAL = "87654321"
EMAIL = "citizen.chen@example.com"
SECRETS = [*PHONES, *IN_TEXT, *NAMES, *ID_CARDS, BANK_CARD, LANDLINE_LOCAL, EMAIL]

# The columns that keep what the citizen said as they said it, for operators.
ORIGINAL_TEXTS = {
    "intake_tickets": {"title", "description", "address"},
    "intake_repeats": {"title", "description"},
    "intake_added_info": {"text"},
    "intake_timeline": {"text"},
}


def spelled(value: Any) -> Iterator[str]:
    """A stored value as text, and a JSON text also with its \\u escapes read."""
    text = str(value)
    yield text
    if text[:1] in "{[":
        try:
            yield json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass


async def found_in(engine: AsyncEngine, skip: dict[str, set[str]] | None = None) -> list[str]:
    """Where in the database any of SECRETS appears: 'table.column: secret'."""
    skip = skip or {}
    metadata = MetaData()
    async with engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        hits = []
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                for column, value in row._mapping.items():
                    if value is None or column in skip.get(table.name, set()):
                        continue
                    for text in spelled(value):
                        hits += [f"{table.name}.{column}: {s}" for s in SECRETS if s in text]
    return sorted(set(hits))


async def post(api: httpx.AsyncClient, channel: str, native: dict[str, Any]) -> str:
    r = await api.post(f"/api/v1/channels/{channel}/reports", json=native, headers=GATEWAY)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket_id"])


async def play_through(api: httpx.AsyncClient, ticket_id: str) -> None:
    """Dispatched → assisting units, then the lead, sign, contact, reply → called back."""

    async def dispatched() -> list[dict[str, Any]] | None:
        r = await api.get("/api/v1/assignments", headers=SUPERVISOR)
        work = [a for a in r.json() if a["ticket_id"] == ticket_id]
        return work if any(a["role"] == "lead" for a in work) else None

    work = await eventually(dispatched, what=f"assignments of {ticket_id}")
    for assignment in sorted(work, key=lambda a: a["role"] == "lead"):
        unit = bearer(Role.UNIT, assignment["unit_id"])
        base = f"/api/v1/assignments/{assignment['id']}"
        # The unit reads the ticket it handles: redacted.
        if assignment["role"] == "lead":
            seen = await api.get(f"/api/v1/tickets/{ticket_id}", headers=unit)
            assert seen.status_code == 200, seen.text
            assert not [s for s in SECRETS if s in seen.text], seen.text
        for step in ("sign", "contact"):
            r = await api.post(f"{base}/{step}", headers=unit)
            assert r.status_code == 200, r.text
        r = await api.post(
            f"{base}/reply",
            headers=unit,
            json={"outcome": "solved", "explanation": "已到现场处理完毕。"},
        )
        assert r.status_code == 200, r.text

    async def due() -> list[dict[str, Any]]:
        r = await api.get("/api/v1/callbacks", params={"ticket_id": ticket_id}, headers=OPERATOR)
        return list(r.json())

    (task,) = await eventually(due, what=f"the callback of {ticket_id}")
    r = await api.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"},
    )
    assert r.status_code == 200, r.text


@pytest.fixture
async def city(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    async with app.state.runtimes["intake"].sessionmaker() as session, session.begin():
        await taxonomy.load_taxonomy(session, demo.city()["taxonomy"])

    async def learned() -> bool:
        async with app.state.runtimes["intake"].sessionmaker() as session:
            return bool((await directory.current(session)).areas)

    await eventually(learned, what="intake to learn the areas")
    return client


async def test_no_phone_id_or_name_leaves_intake(
    city: httpx.AsyncClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The platform keeps SQLAlchemy's statement log off (shared.logs); turned on here, it
    # logs every statement, and the engines must keep the values out of it.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    api = city
    phone = await post(
        api,
        "phone",
        {
            "call_id": "C-1",
            "operator_id": "OP-1",
            "caller_number": PHONES[0],
            "caller_name": NAMES[0],
            "category": STALLS,
            "title": f"{NAMES[0]}反映早市摊贩占道",
            "content": f"小区门口早市摊贩占道经营，请回电{IN_TEXT[0]}，身份证{ID_CARDS[0]}，{NAMES[0]}",
            "address": ADDRESS,
        },
    )
    web = await post(
        api,
        "web",
        {
            "form_id": "F-1",
            "name": NAMES[1],
            "phone": PHONES[1],
            "category": STALLS,
            "title": "早市摊贩占道经营",
            "content": (
                f"摊贩占道，车辆无法通行。我是{NAMES[1]}，座机0571-{LANDLINE_LOCAL}，"
                f"手机 {IN_TEXT[1][:3]} {IN_TEXT[1][3:7]} {IN_TEXT[1][7:]}"
            ),
            "address": ADDRESS,
        },
    )
    wechat = await post(
        api,
        "wechat",
        {
            "msg_id": "W-1",
            "openid": "o-openid-1",
            "phone": PHONES[2],
            "real_name": NAMES[2],
            "category": STALLS,
            "title": "门口摊贩占道",
            "content": f"{NAMES[2]}：门口早市摊贩占道，工资卡{BANK_CARD}被扣款的事也请转告。"
            + "电话"
            + "".join(chr(0xFF10 + int(d)) for d in IN_TEXT[2]),
            "location": {"address": ADDRESS},
        },
    )
    sms = await post(
        api,
        "sms",
        {
            "sms_id": "S-1",
            "from_number": PHONES[3],
            "text": f"阳光社区东门早市摊贩占道经营，请联系+86 {IN_TEXT[3]}，身份证{ID_CARDS[1]}",
        },
    )
    mailbox = await post(
        api,
        "mayor_mailbox",
        {
            "message_id": "M-1",
            "sender_address": EMAIL,
            "sender_name": NAMES[4],
            "phone": PHONES[4],
            "subject": "早市摊贩占道",
            "body": f"尊敬的市长：我是{NAMES[4]}，小区门口早市摊贩占道。电话{IN_TEXT[4]}。",
            "address": ADDRESS,
        },
    )
    open311 = await api.post(
        "/open311/v2/requests.json",
        data={
            "api_key": "dev-open311-key",
            "service_code": (await api.get("/open311/v2/services.json")).json()[0]["service_code"],
            "address_string": ADDRESS,
            "description": f"路灯不亮，我是{NAMES[5]}，电话{IN_TEXT[0]}",
            "last_name": NAMES[5][0],
            "first_name": NAMES[5][1:],
            "phone": PHONES[0],
        },
    )
    assert open311.status_code == 201, open311.text
    answered = await api.post(
        "/api/v1/tickets",
        headers=OPERATOR,
        json={
            "channel": "phone",
            "kind": "consultation",
            "category": STALLS,
            "title": "咨询摊位申请",
            "description": f"{NAMES[1]}咨询如何申请临时摊位",
            "citizen": {"name": NAMES[1], "phone": PHONES[1]},
            "answer": f"请{NAMES[1]}携身份证到街道办理，咨询电话0571-{LANDLINE_LOCAL}",
        },
    )
    assert answered.status_code == 201, answered.text
    # Additions from the operator and from the citizen in the mini-program.
    r = await api.post(
        f"/api/v1/tickets/{phone}/info",
        json={"text": f"{NAMES[0]}补充：早上六点最严重，另一个号码{IN_TEXT[1]}"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/api/v1/miniprogram/tickets/{web}/info",
        json={"phone": PHONES[1], "text": f"补充照片说明，{NAMES[1]}，{IN_TEXT[1]}"},
    )
    assert r.status_code == 200, r.text

    for ticket_id in (phone, web, wechat, sms, mailbox):
        await play_through(api, ticket_id)

    async def closed() -> bool:
        for ticket_id in (phone, web, wechat, sms, mailbox):
            r = await api.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)
            if r.json()["status"] != "closed":
                return False
        return True

    await eventually(closed, what="every ticket to close")

    async def counted() -> bool:
        r = await api.get(
            "/api/v1/analytics/rates", params={"unit_id": "U-BJ01-CG"}, headers=SUPERVISOR
        )
        return bool(r.json()["satisfaction_rate"]["denominator"] >= 1)

    await eventually(counted, what="analytics to count the callbacks")

    # The operator still sees it all.
    seen = (await api.get(f"/api/v1/tickets/{phone}", headers=OPERATOR)).json()
    assert IN_TEXT[0] in seen["description"] and seen["citizen"]["phone"] == PHONES[0]

    runtimes = app.state.runtimes
    for name, runtime in runtimes.items():
        skip = ORIGINAL_TEXTS if name == "intake" else {}
        assert await found_in(runtime.engine, skip) == [], name
    bus = runtimes["intake"].bus
    assert await found_in(bus.engine) == [], "the bus log"
    logged = caplog.text + "".join(
        r.getMessage() for when in ("setup", "call") for r in caplog.get_records(when)
    )
    assert not [s for s in SECRETS if s in logged]
    # The statements were logged (at INFO), their values not.
    assert "[SQL parameters hidden due to hide_parameters=True]" in logged
