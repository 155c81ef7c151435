"""Logging in, the tokens' checks (signature, kid, exp, iat, iss, aud, role), refresh rotation,
revocation seen by the other services, client credentials, and a unit's account created through
the API acting on its own assignments only."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared.auth import (
    Principal,
    Role,
    issue_token,
    load_signing_key,
    parse_public_keys,
    signing_key,
)
from tests.accounts.helpers import (
    ADMIN,
    PASSWORD,
    assert_problem,
    auth,
    create,
    login,
    tokens,
)
from tests.keys import new_private_key_pem
from tests.routing.helpers import assists_of, lead_of, post, settled
from tests.support import GATEWAY, SUPERVISOR

TICKETS = "/api/v1/tickets?limit=1"  # intake, for operators
ASSIGNMENTS = "/api/v1/assignments"  # routing


async def test_login_with_the_right_password_gives_a_signed_jwt(client: httpx.AsyncClient) -> None:
    await create(client, "op.wang", "dispatcher")
    body = await tokens(client, "op.wang")
    assert body["token_type"] == "bearer" and body["role"] == "operator"
    assert body["expires_in"] == 15 * 60 and body["refresh_token"]

    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"] == signing_key().kid
    assert claims["iss"] == claims["aud"] == "hotline12345"
    assert claims["sub"] == "op.wang" and claims["role"] == "operator"
    assert claims["kind"] == "dispatcher" and claims["jti"]
    assert claims["exp"] - claims["iat"] == 15 * 60

    r = await client.get(TICKETS, headers=auth(body["access_token"]))
    assert r.status_code == 200, r.text
    me = (await client.get("/api/v1/auth/me", headers=auth(body["access_token"]))).json()
    assert me == {
        "subject": "op.wang",
        "role": "operator",
        "unit_id": None,
        "issuer": "hotline12345",
    }


async def test_the_jwks_verifies_the_tokens(client: httpx.AsyncClient) -> None:
    document = (await client.get("/.well-known/jwks.json")).json()
    keys = parse_public_keys(json.dumps(document))
    token = issue_token(Principal("x", Role.OPERATOR))
    key = keys[jwt.get_unverified_header(token)["kid"]]
    assert jwt.decode(token, key.key, algorithms=["EdDSA"], audience="hotline12345")["sub"] == "x"
    assert all("d" not in k for k in document["keys"])  # public halves only


@pytest.mark.parametrize("password", ["wrong password!", "Correct Horse Battery"])
async def test_login_with_a_wrong_password_is_refused(
    client: httpx.AsyncClient, password: str
) -> None:
    await create(client, "op.li")
    wrong = assert_problem(await login(client, "op.li", password), 401)
    unknown = assert_problem(await login(client, "nobody.here", password), 401)
    assert wrong["detail"] == unknown["detail"]  # no hint which account names exist
    assert wrong["error"] == "invalid_grant"


async def test_a_disabled_account_cannot_log_in_and_its_tokens_stop_working(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "op.zhao")
    access = (await tokens(client, "op.zhao"))["access_token"]
    r = await client.post("/api/v1/accounts/op.zhao/disable", headers=SUPERVISOR)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert_problem(await client.get(TICKETS, headers=auth(access)), 401)
    assert_problem(await login(client, "op.zhao"), 401)


def _forged(**claims: Any) -> str:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "hotline12345",
        "aud": "hotline12345",
        "sub": "x",
        "role": "operator",
    }
    base |= {"iat": now, "exp": now + 600, "jti": "j1"}
    key = signing_key()
    body = {k: v for k, v in (base | claims).items() if v is not None}
    return jwt.encode(body, key.key, algorithm=key.algorithm, headers={"kid": key.kid})


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (
            issue_token(Principal("x", Role.OPERATOR), now=datetime.now(UTC) - timedelta(hours=1)),
            "expired",
        ),
        (_forged(exp=1), "expired"),
        (_forged(exp=None), "exp"),
        (_forged(iat=int(time.time()) + 3600), "not valid yet"),
        (issue_token(Principal("x", Role.OPERATOR), audience="another-platform"), "aud"),
        (issue_token(Principal("x", Role.OPERATOR), issuer="https://evil.example"), "iss"),
        (issue_token(Principal("x", Role.OPERATOR), secret=new_private_key_pem()), "unknown key"),
        (_forged(role="mayor"), "role"),
        (_forged(role="unit"), "unit"),
    ],
    ids=[
        "expired",
        "exp 1",
        "no exp",
        "iat in the future",
        "wrong aud",
        "wrong iss",
        "unknown kid",
        "unknown role",
        "unit without unit",
    ],
)
async def test_tokens_failing_a_check_are_refused(
    client: httpx.AsyncClient, token: str, says: str
) -> None:
    body = assert_problem(await client.get(TICKETS, headers=auth(token)), 401)
    assert says in body["detail"], body


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    client: httpx.AsyncClient,
) -> None:
    other = jwt.encode(
        jwt.decode(issue_token(Principal("x", Role.OPERATOR)), options={"verify_signature": False}),
        load_signing_key(new_private_key_pem()).key,
        algorithm="EdDSA",
        headers={"kid": signing_key().kid},
    )
    assert_problem(await client.get(TICKETS, headers=auth(other)), 401)
    unsigned = jwt.encode({"sub": "x", "role": "operator"}, None, algorithm="none")  # type: ignore[arg-type]
    assert_problem(await client.get(TICKETS, headers=auth(unsigned)), 401)


async def test_refresh_rotates_and_the_old_refresh_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "cb.sun", "callback_operator")
    first = await tokens(client, "cb.sun")

    async def refresh(token: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
        )

    r = await refresh(first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await client.get(TICKETS, headers=auth(second["access_token"]))).status_code == 200

    assert_problem(await refresh(first["refresh_token"]), 401)  # used up
    # Presenting a used one again means it was copied: its whole family is revoked.
    assert_problem(await refresh(second["refresh_token"]), 401)
    assert_problem(await refresh("not-a-token"), 401)


async def test_logout_revokes_the_token_for_the_other_services(client: httpx.AsyncClient) -> None:
    await create(client, "op.qian")
    body = await tokens(client, "op.qian")
    access = auth(body["access_token"])
    assert (await client.get(ASSIGNMENTS, headers=access)).status_code == 200  # routing
    r = await client.post(
        "/api/v1/auth/logout", headers=access, json={"refresh_token": body["refresh_token"]}
    )
    assert r.status_code == 204, r.text
    assert_problem(await client.get(ASSIGNMENTS, headers=access), 401)  # routing
    assert_problem(await client.get(TICKETS, headers=access), 401)  # intake
    refreshed = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
    )
    assert_problem(refreshed, 401)
    assert (
        await client.get(TICKETS, headers=auth((await tokens(client, "op.qian"))["access_token"]))
    ).status_code == 200


async def test_an_admin_revokes_one_token_by_its_id(client: httpx.AsyncClient) -> None:
    await create(client, "op.feng")
    one, two = (
        (await tokens(client, "op.feng"))["access_token"],
        (await tokens(client, "op.feng"))["access_token"],
    )
    jti = jwt.decode(one, options={"verify_signature": False})["jti"]
    r = await client.post("/api/v1/auth/revocations", headers=ADMIN, json={"token_id": jti})
    assert r.status_code == 204, r.text
    assert_problem(await client.get("/api/v1/analytics/rates", headers=auth(one)), 401)
    assert (await client.get("/api/v1/analytics/rates", headers=auth(two))).status_code == 200
    listed = (await client.get("/api/v1/auth/revocations")).json()
    assert jti in listed["tokens"] and "op.feng" not in str(listed)


async def test_a_unit_account_acts_on_its_own_assignments_and_not_others(
    client: httpx.AsyncClient,
) -> None:
    """A unit without any demo token: its account is created through the API."""
    ticket = await settled(client, await post(client), 2)
    lead, assist = lead_of(ticket), assists_of(ticket)[0]
    await create(client, "staff.cg", "unit", unit_id=lead["unit_id"], headers=SUPERVISOR)
    await create(client, "staff.street", "unit", unit_id=assist["unit_id"], headers=SUPERVISOR)
    cg = auth((await tokens(client, "staff.cg"))["access_token"])
    street = auth((await tokens(client, "staff.street"))["access_token"])

    mine = (await client.get(ASSIGNMENTS, headers=cg)).json()
    assert {a["id"] for a in mine} == {lead["id"]}
    r = await client.post(f"{ASSIGNMENTS}/{lead['id']}/sign", headers=cg)
    assert r.status_code == 200, r.text
    assert_problem(await client.post(f"{ASSIGNMENTS}/{assist['id']}/sign", headers=cg), 403)
    assert_problem(await client.post(f"{ASSIGNMENTS}/{lead['id']}/contact", headers=street), 403)
    r = await client.post(f"{ASSIGNMENTS}/{assist['id']}/sign", headers=street)
    assert r.status_code == 200, r.text


async def test_who_may_create_which_accounts(client: httpx.AsyncClient) -> None:
    for kind in ("supervisor", "admin"):
        r = await client.post(
            "/api/v1/accounts",
            headers=SUPERVISOR,
            json={"username": f"new.{kind}", "display_name": "x", "kind": kind},
        )
        assert_problem(r, 403)
    r = await client.post(
        "/api/v1/accounts",
        headers=ADMIN,
        json={"username": "u.nowhere", "display_name": "x", "kind": "unit", "unit_id": "U-NOWHERE"},
    )
    assert "U-NOWHERE" in assert_problem(r, 422)["detail"]
    r = await client.post(
        "/api/v1/accounts",
        headers=ADMIN,
        json={"username": "op.short", "display_name": "x", "kind": "operator", "password": "short"},
    )
    assert "password" in assert_problem(r, 422)["detail"]
    r = await client.post(
        "/api/v1/accounts",
        headers=GATEWAY,
        json={"username": "op.gw", "display_name": "x", "kind": "operator"},
    )
    assert_problem(r, 403)
    r = await client.post(
        "/api/v1/accounts",
        headers=ADMIN,
        json={"username": "sup.new", "display_name": "督办", "kind": "supervisor"},
    )
    assert r.status_code == 201 and r.json()["temporary_password"]
    assert (await login(client, "sup.new", r.json()["temporary_password"])).status_code == 200
    listed = (await client.get("/api/v1/accounts", headers=SUPERVISOR)).json()
    assert "sup.new" not in {a["username"] for a in listed}  # not one a supervisor manages


async def test_a_password_reset_revokes_the_old_tokens(client: httpx.AsyncClient) -> None:
    await create(client, "op.chen")
    old = auth((await tokens(client, "op.chen"))["access_token"])
    r = await client.post("/api/v1/accounts/op.chen/password", headers=SUPERVISOR)
    assert r.status_code == 200 and r.json()["temporary_password"]
    assert_problem(await client.get(TICKETS, headers=old), 401)
    assert_problem(await login(client, "op.chen", PASSWORD), 401)
    fresh = await login(client, "op.chen", r.json()["temporary_password"])
    assert fresh.status_code == 200  # at once, in the same second as the reset
    assert (
        await client.get(TICKETS, headers=auth(fresh.json()["access_token"]))
    ).status_code == 200


async def test_client_credentials_for_a_service(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/clients",
        headers=ADMIN,
        json={"client_id": "sla-jobs", "name": "sla", "role": "service"},
    )
    assert r.status_code == 201, r.text
    secret = r.json()["client_secret"]
    assert_problem(
        await client.post(
            "/api/v1/clients",
            headers=SUPERVISOR,
            json={"client_id": "x-y", "name": "x", "role": "service"},
        ),
        403,
    )

    form = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "sla-jobs", "client_secret": secret},
    )
    assert form.status_code == 200, form.text
    assert form.json()["role"] == "service" and "refresh_token" not in form.json()
    basic = base64.b64encode(f"sla-jobs:{secret}".encode()).decode()
    r = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200, r.text
    assert (
        await client.get(ASSIGNMENTS, headers=auth(r.json()["access_token"]))
    ).status_code == 200
    wrong = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "sla-jobs", "client_secret": "nope"},
    )
    assert assert_problem(wrong, 401)["error"] == "invalid_client"
    r = await client.post("/api/v1/clients/sla-jobs/disable", headers=ADMIN)
    assert r.status_code == 200
    assert_problem(await client.get(ASSIGNMENTS, headers=auth(form.json()["access_token"])), 401)


async def test_a_grant_without_its_fields_is_a_422(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "x"})
    assert_problem(r, 422)
    r = await client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert_problem(r, 422)


async def test_accounts_problems_name_each_field_with_a_message(client: httpx.AsyncClient) -> None:
    """Each entry of a 422's `errors` has the one FieldProblem shape (field, message), as
    documented (found by the fuzzing in tests/fuzz: accounts said `problem`)."""
    wrong = [
        await client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "x"}),
        await client.post("/api/v1/auth/revocations", headers=ADMIN, json={}),
        await client.post(
            "/api/v1/accounts",
            headers=ADMIN,
            json={"username": "-x", "display_name": "x", "kind": "operator", "password": PASSWORD},
        ),
        await client.post(
            "/api/v1/clients",
            headers=ADMIN,
            json={"client_id": "sla-jobs", "name": "sla", "role": "admin"},
        ),
    ]
    for r in wrong:
        errors = assert_problem(r, 422)["errors"]
        assert errors and all(set(e) == {"field", "message"} for e in errors), r.text


async def test_an_offset_past_any_page_is_a_422_not_a_crash(client: httpx.AsyncClient) -> None:
    """Found by the fuzzing in tests/fuzz: a 64-bit overflow of the offset was a 500."""
    r = await client.get("/api/v1/accounts", params={"offset": str(2**63)}, headers=ADMIN)
    assert assert_problem(r, 422)["errors"][0]["field"] == "query.offset"


async def test_the_demo_accounts_can_log_in(client: httpx.AsyncClient, app: Any) -> None:
    from services import demo

    assert await demo.load_accounts(app.state.runtimes) == len(demo.DEMO_ACCOUNTS) + 33
    assert await demo.load_accounts(app.state.runtimes) == 0  # once
    for username in ("operator-01", "supervisor-01", "admin", "unit-U-BJ01-CG", "unit-U-BJ0101"):
        r = await login(client, username, demo.DEMO_PASSWORD)
        assert r.status_code == 200, (username, r.text)
    assert r.json()["role"] == "unit" and r.json()["unit_id"] == "U-BJ0101"
    r = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "gateway-12345",
            "client_secret": demo.DEMO_CLIENT_SECRET,
        },
    )
    assert r.status_code == 200 and r.json()["role"] == "gateway"
    assert PASSWORD != demo.DEMO_PASSWORD
