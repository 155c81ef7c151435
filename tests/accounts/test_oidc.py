"""Single sign-on: tokens of the city's OpenID Connect provider are checked against its JWKS
(served here by a small ASGI app on a local port, keys made for the test) and mapped to roles."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec

from services.stack import free_port
from shared.auth import public_jwk
from shared.settings import PlatformSettings
from tests.accounts.helpers import assert_problem, auth
from tests.support import eventually

KEY = ec.generate_private_key(ec.SECP256R1())
STRANGER = ec.generate_private_key(ec.SECP256R1())
KID = public_jwk(KEY.public_key())["kid"]


async def jwks_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The provider's JWKS endpoint, and nothing else."""
    if scope["type"] != "http":
        return
    body = json.dumps({"keys": [public_jwk(KEY.public_key())]}).encode()
    status = 200 if scope["path"] == "/certs" else 404
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def provider() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(jwks_app, port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, what="the provider's JWKS server")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
def platform(platform: PlatformSettings, provider: str) -> PlatformSettings:
    return platform.model_copy(
        update={
            "oidc_issuer": "https://sso.binjiang.example/realms/city",
            "oidc_jwks_url": f"{provider}/certs",
            "oidc_audience": "hotline-12345",
            "oidc_role_claim": "realm_access.roles",
            "oidc_role_map": {"12345-unit-staff": "unit", "12345-operator": "operator"},
        }
    )


def sso_token(key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "https://sso.binjiang.example/realms/city",
        "aud": "hotline-12345",
        "sub": "5f0c2a7e-1111",
        "preferred_username": "li.na",
        "realm_access": {"roles": ["offline_access", "12345-unit-staff"]},
        "unit_id": "U-BJ01-CG",
        "iat": now,
        "exp": now + 300,
        "jti": "sso-1",
    } | claims
    return jwt.encode(body, key, algorithm="ES256", headers={"kid": KID})


async def test_a_provider_token_is_accepted_with_the_mapping(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/auth/me", headers=auth(sso_token()))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "subject": "li.na",
        "role": "unit",
        "unit_id": "U-BJ01-CG",
        "issuer": "https://sso.binjiang.example/realms/city",
    }
    r = await client.get("/api/v1/assignments", headers=auth(sso_token()))
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (sso_token(realm_access={"roles": ["offline_access"]}), 403),
        (sso_token(aud="another-app"), 401),
        (sso_token(exp=int(time.time()) - 3600), 401),
        (sso_token(key=STRANGER), 401),
        (sso_token(realm_access={"roles": ["12345-unit-staff"]}, unit_id=None), 401),
    ],
    ids=["no mapped role", "wrong aud", "expired", "not the provider's key", "unit without unit"],
)
async def test_provider_tokens_failing_a_check_are_refused(
    client: httpx.AsyncClient, token: str, status: int
) -> None:
    assert_problem(await client.get("/api/v1/auth/me", headers=auth(token)), status)
