"""Bearer tokens with roles.

A token is `hl1.<claims>.<signature>`: base64url JSON claims (`sub`, `role`, optional `unit`)
signed with HMAC-SHA256 under the platform secret, so every service can verify it alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, Unauthorized
from shared.settings import platform_settings


class Role(StrEnum):
    GATEWAY = "gateway"  # channel gateways posting citizens' reports
    OPERATOR = "operator"  # hotline-centre operators, dispatchers and callback staff
    UNIT = "unit"  # a handling unit (承办单位), scoped to its unit id
    SUPERVISOR = "supervisor"  # the centre's supervisors and evaluators
    SERVICE = "service"  # another service of the platform
    CITIZEN = "citizen"  # the mini-program acting for one citizen


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    unit_id: str | None = None

    def is_centre(self) -> bool:
        return self.role in (Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(body: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def issue_token(principal: Principal, secret: str | None = None) -> str:
    secret = secret or platform_settings().auth_secret
    claims: dict[str, str] = {"sub": principal.subject, "role": principal.role.value}
    if principal.unit_id:
        claims["unit"] = principal.unit_id
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"hl1.{body}.{_sign(body, secret)}"


def verify_token(token: str, secret: str | None = None) -> Principal:
    secret = secret or platform_settings().auth_secret
    try:
        prefix, body, signature = token.split(".")
    except ValueError:
        raise Unauthorized("The bearer token is malformed.") from None
    if prefix != "hl1" or not hmac.compare_digest(signature, _sign(body, secret)):
        raise Unauthorized("The bearer token is not valid.")
    try:
        claims = json.loads(_unb64(body))
        role = Role(claims["role"])
    except (ValueError, KeyError):
        raise Unauthorized("The bearer token's claims are not valid.") from None
    if role is Role.UNIT and not claims.get("unit"):
        raise Unauthorized("A unit token must name its unit.")
    return Principal(subject=claims["sub"], role=role, unit_id=claims.get("unit"))


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return verify_token(credentials.credentials)


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits only the given roles."""
    allowed = frozenset(roles)

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"Role '{principal.role.value}' may not do this; allowed: {names}.")
        return principal

    return dependency
