"""The browser's session (会话): a signed, HttpOnly, SameSite=Strict cookie holding the user's
access and refresh tokens, and a CSRF token that every form post must echo.

A session lasts `WEB_SESSION_HOURS`; the access token inside it is short-lived and renewed with
the refresh token a minute before it expires (`renewed`; the page's dependency asks accounts,
and `RenewedCookie` hands the browser the new cookie on whatever response the page makes).

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
from dataclasses import asdict, dataclass, replace
from typing import Any

import jwt
from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    expires: float  # the session's end
    token_expires: float  # the access token's `exp`: renewed before it


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


RENEW_SECONDS = 60  # renew the access token when it has less than this left


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, read unverified: only to pick the navigation and to know when to
    renew; every service verifies the token on every call."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def start(username: str, token: str, refresh_token: str | None = None) -> WebSession:
    """A new session for a token the accounts service issued. Without a refresh token it ends
    with the access token."""
    claims = _claims(token)
    now = time.time()
    token_expires = float(claims.get("exp", now + 300))
    end = now + web_settings().session_hours * 3600
    return WebSession(
        token=token,
        refresh_token=refresh_token,
        csrf=secrets.token_urlsafe(24),
        username=username,
        role=str(claims.get("role", "")),
        unit_id=str(claims["unit"]) if claims.get("unit") else None,
        expires=end if refresh_token else min(end, token_expires),
        token_expires=token_expires,
    )


def needs_renewal(session: WebSession, now: float | None = None) -> bool:
    return session.token_expires - (now or time.time()) < RENEW_SECONDS


def renewed(session: WebSession, token: str, refresh_token: str | None) -> WebSession:
    """The same session (user, CSRF token, end) with the tokens a refresh returned."""
    return replace(
        session,
        token=token,
        refresh_token=refresh_token or session.refresh_token,
        token_expires=float(_claims(token).get("exp", time.time() + 300)),
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


def cookie_header(session: WebSession) -> tuple[bytes, bytes]:
    """The Set-Cookie header of `set_cookie`, for a response already made."""
    carrier = Response()
    set_cookie(carrier, session)
    return next((k, v) for k, v in carrier.raw_headers if k == b"set-cookie")


class RenewedCookie:
    """ASGI middleware: when the page renewed the session's tokens (`request.state.renewed`),
    the response carries the new cookie, whatever the page returned."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/web/"):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            renewal = scope.get("state", {}).get("renewed")
            if message["type"] == "http.response.start" and renewal is not None:
                message = {**message, "headers": [*message["headers"], cookie_header(renewal)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


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
