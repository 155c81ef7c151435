"""The browser's session (会话): a signed, HttpOnly, SameSite=Strict cookie holding the user's
access token, and a CSRF token that every form post must echo.

The token stays server-bound in the cookie (scripts cannot read it) and is sent to the
services as a bearer token; the services verify it. The role and unit read from it here only
choose the navigation: a page a role may not use would fail at the API anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

import jwt
from fastapi import Request, Response

from web.settings import web_settings

COOKIE = "hotline_session"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"  # double-submit token of the login form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"  # htmx posts send it from <body hx-headers>


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login page."""

    def __init__(self, message: str = "") -> None:
        self.message = message


class CsrfRejected(Exception):
    """A post without the session's CSRF token: refused, nothing done."""


@dataclass(frozen=True)
class WebSession:
    token: str
    refresh_token: str | None
    csrf: str
    username: str
    role: str
    unit_id: str | None
    expires: float


def _sign(payload: bytes) -> str:
    key = web_settings().session_secret.encode()
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode()


def encode(session: WebSession) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(asdict(session)).encode())
    return payload.decode() + "." + _sign(payload)


def decode(cookie: str | None, now: float | None = None) -> WebSession | None:
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(payload.encode())):
        return None
    try:
        session = WebSession(**json.loads(base64.urlsafe_b64decode(payload)))
    except (ValueError, TypeError):
        return None
    return session if session.expires > (now or time.time()) else None


def start(username: str, token: str, refresh_token: str | None = None) -> WebSession:
    """A new session for a token the accounts service issued. Its claims are read unverified:
    only to pick the navigation; every service verifies the token on every call."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    hours = web_settings().session_hours
    expires = min(float(claims.get("exp", time.time() + hours * 3600)), time.time() + hours * 3600)
    return WebSession(
        token=token,
        refresh_token=refresh_token,
        csrf=secrets.token_urlsafe(24),
        username=username,
        role=str(claims.get("role", "")),
        unit_id=str(claims["unit"]) if claims.get("unit") else None,
        expires=expires,
    )


def set_cookie(response: Response, session: WebSession) -> None:
    response.set_cookie(
        COOKIE,
        encode(session),
        max_age=max(1, int(session.expires - time.time())),
        httponly=True,
        samesite="strict",
        secure=web_settings().cookie_secure,
        path="/",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def current(request: Request) -> WebSession:
    session = decode(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    return session


def optional(request: Request) -> WebSession | None:
    return decode(request.cookies.get(COOKIE))


def check_csrf(request: Request, session: WebSession, form_value: object) -> None:
    """The form's hidden field or htmx's header must carry the session's token."""
    sent = request.headers.get(CSRF_HEADER) or (form_value if isinstance(form_value, str) else "")
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRejected()
