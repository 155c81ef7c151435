"""Personal data in intake (issue 11): phones and names encrypted at rest and found by a blind
index; texts redacted (脱敏) in events and for every reader but operators; Open311 publishes only
its own channel's tickets, with public fields; keys rotate; engines hide SQL parameters."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.exc import IntegrityError

from intake import keys, protection
from intake.config import IntakeSettings
from shared import db, migrations
from shared.auth import Role
from shared.settings import PlatformSettings
from tests.intake.test_channels_api import events, report
from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR, bearer

PHONE, OTHER_PHONE, ID_CARD, NAME = "13912345678", "13600001111", "11010519491231002X", "王某某"
TEXT = f"楼下烧烤油烟扰民，请回电{OTHER_PHONE}，身份证{ID_CARD}，{NAME}"
SERVICE = bearer(Role.SERVICE)


def key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


async def phone_call(api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    native = {
        "call_id": "CALL-PD-1",
        "operator_id": "OP-07",
        "caller_number": PHONE,
        "caller_name": NAME,
        "category": "城市管理/市容环境/占道经营",
        "title": f"{NAME}反映油烟",
        "content": TEXT,
        "address": "滨江市江北区长安街道阳光社区3号楼",
        **changes,
    }
    r = await report(api, "phone", native)
    assert r.status_code == 201, r.text
    ticket: dict[str, Any] = r.json()["ticket"]
    return ticket


async def stored(app: FastAPI, ticket_id: str) -> dict[str, Any]:
    async with app.state.runtimes["intake"].sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT citizen_name, citizen_phone, citizen_index, terms "
                    "FROM intake_tickets WHERE id = :id"
                ),
                {"id": ticket_id},
            )
        ).one()
    return dict(row._mapping)


async def test_phone_and_name_are_stored_encrypted_and_found_by_the_blind_index(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    ticket = await phone_call(api)
    row = await stored(intake_app, ticket["id"])
    assert row["citizen_phone"].startswith("enc:dev:") and PHONE not in row["citizen_phone"]
    assert row["citizen_name"].startswith("enc:dev:") and NAME not in row["citizen_name"]
    assert row["citizen_index"] == protection.blind_index(PHONE)
    assert NAME not in row["terms"] and OTHER_PHONE not in row["terms"]

    # The operator sees the citizen as given; finds the caller's tickets by phone (来电历史).
    seen = (await api.get(f"/api/v1/tickets/{ticket['id']}", headers=OPERATOR)).json()
    assert seen["citizen"] == {"name": NAME, "phone": PHONE, "anonymous": False}
    by_caller = "/api/v1/tickets/by-caller"
    history = await api.post(by_caller, json={"phone": "139-1234-5678"}, headers=OPERATOR)
    assert [t["id"] for t in history.json()] == [ticket["id"]]
    nobody = await api.post(by_caller, json={"phone": "13700000000"}, headers=OPERATOR)
    assert nobody.json() == []
    refused = await api.post(by_caller, json={"phone": PHONE}, headers=SUPERVISOR)
    assert refused.status_code == 403

    # The mini-program still checks the phone (decrypted from the row).
    r = await api.post(
        "/api/v1/miniprogram/lookup", json={"ticket_id": ticket["id"], "phone": PHONE}
    )
    assert r.status_code == 200, r.text


async def test_a_repeat_is_found_through_the_blind_index(api: httpx.AsyncClient) -> None:
    first = await phone_call(api)
    again = await report(
        api,
        "phone",
        {
            "call_id": "CALL-PD-2",
            "operator_id": "OP-07",
            "caller_number": PHONE,
            "category": "城市管理/市容环境/占道经营",
            "title": "烧烤油烟扰民",
            "content": "楼下烧烤油烟扰民，还是没人管",
            "address": "滨江市江北区长安街道阳光社区3号楼",
        },
    )
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "repeat" and again.json()["ticket_id"] == first["id"]


async def test_events_carry_redacted_texts(api: httpx.AsyncClient, intake_app: FastAPI) -> None:
    ticket = await phone_call(api)
    r = await api.post(
        f"/api/v1/tickets/{ticket['id']}/info",
        json={"text": f"{NAME}补充：晚上十点后最严重，手机{PHONE}"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    answered = await api.post(
        "/api/v1/tickets",
        json={
            **COMPLAINT,
            "kind": "consultation",
            "description": f"咨询公积金提取，卡号6222021234567890128，{NAME}",
            "citizen": {"name": NAME, "phone": PHONE},
            "answer": f"请{NAME}携身份证{ID_CARD}到窗口办理，或拨打0571-87654321",
        },
        headers=OPERATOR,
    )
    assert answered.status_code == 201, answered.text
    bodies = await events(intake_app)
    payloads = str([e["payload"] for e in bodies])
    for secret in (PHONE, OTHER_PHONE, ID_CARD, NAME, "6222021234567890128", "87654321"):
        assert secret not in payloads, secret
    received = next(e["payload"] for e in bodies if e["ticket_id"] == ticket["id"])
    assert received["description"] == (
        "楼下烧烤油烟扰民，请回电136****1111，身份证[身份证号****002X]，王**"
    )
    assert received["title"] == "王**反映油烟"


async def test_other_readers_see_redacted_texts_and_operators_the_original(
    api: httpx.AsyncClient,
) -> None:
    ticket = await phone_call(api)
    await api.post(
        f"/api/v1/tickets/{ticket['id']}/info",
        json={"text": f"补充：联系{PHONE}"},
        headers=OPERATOR,
    )
    operator = (await api.get(f"/api/v1/tickets/{ticket['id']}", headers=OPERATOR)).json()
    assert operator["description"] == TEXT
    assert any(PHONE in e["text"] for e in operator["timeline"])
    for reader in (SUPERVISOR, SERVICE):
        r = await api.get(f"/api/v1/tickets/{ticket['id']}", headers=reader)
        assert r.status_code == 200, r.text
        for secret in (PHONE, OTHER_PHONE, ID_CARD, NAME):
            assert secret not in r.text, secret
        seen = r.json()
        assert seen["citizen"] == {"name": "王**", "phone": "139****5678", "anonymous": False}
        listed = await api.get("/api/v1/tickets", headers=reader)
        assert NAME not in listed.text

    photo = {"name": f"{PHONE}.jpg", "content_type": "image/jpeg", "size": 10, "url": "https://x/1"}
    form = {**COMPLAINT, "attachments": [photo]}
    posted = (await api.post("/api/v1/tickets", json=form, headers=GATEWAY)).json()
    r = await api.get(f"/api/v1/tickets/{posted['id']}", headers=SUPERVISOR)
    assert r.json()["attachments"][0]["name"] == "139****5678.jpg"


async def test_open311_publishes_only_its_own_channel_with_public_fields(
    api: httpx.AsyncClient,
) -> None:
    called = await phone_call(api)
    form = {
        "api_key": "dev-open311-key",
        "service_code": (await api.get("/open311/v2/services.json")).json()[0]["service_code"],
        "lat": "30.221234",
        "long": "120.121234",
        "description": f"路灯坏了，我是{NAME}，电话{OTHER_PHONE}",
        "first_name": "某某",
        "last_name": "王",
        "phone": PHONE,
        "email": "wang@example.com",
    }
    created = await api.post("/open311/v2/requests.json", data=form)
    assert created.status_code == 201, created.text
    (request,) = created.json()

    listed = await api.get("/open311/v2/requests.json")
    assert [r["service_request_id"] for r in listed.json()] == [request["service_request_id"]]
    (row,) = listed.json()
    assert row["description"] == "路灯坏了，我是王**，电话136****1111"
    assert (row["lat"], row["long"]) == (30.221, 120.121)
    for secret in (PHONE, OTHER_PHONE, NAME, "wang@example.com"):
        assert secret not in listed.text
    for path in (f"requests/{called['id']}.json", f"tokens/T-{called['id']}.json"):
        r = await api.get(f"/open311/v2/{path}")
        assert r.status_code == 404, path
    hidden = await api.get("/open311/v2/requests.json", params={"service_request_id": called["id"]})
    assert hidden.json() == []


# ---------------------------------------------------------------------------- keys


def ring(raw: str, index: str | None = None, **platform: Any) -> protection.KeyRing:
    config = IntakeSettings(encryption_keys=raw, blind_index_key=index or key(9))
    return protection.build_key_ring(config, PlatformSettings(**platform))


def test_keys_rotate_current_first_old_ones_still_decrypt() -> None:
    old = ring(f"k1:{key(1)}", kafka_bootstrap="kafka:9092")
    sealed = old.encrypt(PHONE, "c")
    assert sealed.startswith("enc:k1:") and PHONE not in sealed
    assert sealed != old.encrypt(PHONE, "c")  # a fresh nonce each time
    new = ring(f"k2:{key(2)},k1:{key(1)}", kafka_bootstrap="kafka:9092")
    assert new.decrypt(sealed, "c") == PHONE
    assert new.encrypt(PHONE, "c").startswith("enc:k2:")
    with pytest.raises(protection.MissingKeys, match="k1"):
        ring(f"k2:{key(2)}", kafka_bootstrap="kafka:9092").decrypt(sealed, "c")
    with pytest.raises(protection.MissingKeys, match="does not decrypt"):
        new.decrypt(sealed, "another column")  # the column is associated data
    assert (
        new.blind_index(PHONE)
        == old.blind_index(PHONE)
        != ring(f"k1:{key(1)}", key(8)).blind_index(PHONE)
    )


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("k1", "id:base64key"),
        (f"k1:{base64.b64encode(b'short').decode()}", "5 bytes"),
        ("", "no key"),
    ],
)
def test_bad_keys_are_refused_with_what_to_set(raw: str, words: str) -> None:
    with pytest.raises(protection.MissingKeys, match=words):
        protection.parse_encryption_keys(raw)


def test_a_distributed_intake_without_keys_refuses_to_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(protection.MissingKeys) as refused:
        protection.build_key_ring(IntakeSettings(), PlatformSettings(kafka_bootstrap="kafka:9092"))
    assert "INTAKE_ENCRYPTION_KEYS and INTAKE_BLIND_INDEX_KEY" in str(refused.value)
    assert "python -m intake.keys generate" in str(refused.value)
    # The embedded run and the demo start on the public development keys, loudly.
    with caplog.at_level(logging.WARNING, logger="intake.protection"):
        development = protection.build_key_ring(IntakeSettings(), PlatformSettings())
    assert development.development and "PUBLIC development keys" in caplog.text
    demo = PlatformSettings(kafka_bootstrap="kafka:9092", load_demo=True)
    assert protection.build_key_ring(IntakeSettings(), demo).development


async def test_migration_0004_encrypts_clear_rows_and_reencrypt_rotates(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    engine = db.create_engine(url)
    try:
        await migrations.upgrade(engine, "intake", "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO intake_tickets (id, channel, kind, category, urgency, title, "
                    "description, citizen_name, citizen_phone, anonymous, status, received_at, "
                    "updated_at, repeat_count) VALUES ('T1', 'phone', 'complaint', 'c', "
                    "'ordinary', 't', 'd', :name, :phone, 0, 'received', '2026-11-23 02:00:00', "
                    "'2026-11-23 02:00:00', 0)"
                ),
                {"name": NAME, "phone": PHONE},
            )
        await migrations.upgrade(engine, "intake")
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT * FROM intake_tickets"))).one()._mapping
        dev = protection.key_ring()
        assert row["citizen_phone"].startswith("enc:dev:")
        assert dev.decrypt(row["citizen_phone"], keys.PHONE) == PHONE
        assert dev.decrypt(row["citizen_name"], keys.NAME) == NAME
        assert row["citizen_index"] == dev.blind_index(PHONE)

        rotated = ring(f"k2:{key(2)}", key(7))
        rotated.keys.update(dev.keys)  # the old key still listed
        async with engine.begin() as conn:
            done = await conn.run_sync(keys.reencrypt_rows, rotated)
            again = await conn.run_sync(keys.reencrypt_rows, rotated)
            row = (await conn.execute(text("SELECT * FROM intake_tickets"))).one()._mapping
        assert (done.changed, again.changed) == (1, 0)
        assert row["citizen_phone"].startswith("enc:k2:")
        assert rotated.decrypt(row["citizen_phone"], keys.PHONE) == PHONE
        assert row["citizen_index"] == rotated.blind_index(PHONE)
    finally:
        await engine.dispose()


def test_generate_prints_usable_keys() -> None:
    lines = dict(line.split("=", 1) for line in keys.generate("k3").splitlines())
    made = protection.build_key_ring(
        IntakeSettings(
            encryption_keys=lines["INTAKE_ENCRYPTION_KEYS"],
            blind_index_key=lines["INTAKE_BLIND_INDEX_KEY"],
        ),
        PlatformSettings(kafka_bootstrap="kafka:9092"),
    )
    assert made.current == "k3" and not made.development


# ---------------------------------------------------------------------------- logs


async def test_engines_hide_sql_parameters_in_errors(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    table = Table(
        "people", MetaData(), Column("id", Integer, primary_key=True), Column("p", String)
    )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(table.insert().values(id=1, p=PHONE))
        with pytest.raises(IntegrityError) as failed:
            async with engine.begin() as conn:
                await conn.execute(table.insert().values(id=1, p=PHONE))
        assert PHONE not in str(failed.value) and "hidden" in str(failed.value)
    finally:
        await engine.dispose()
