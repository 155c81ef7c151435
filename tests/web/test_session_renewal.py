"""A browser session outlives its short access token: a minute before the token expires the
page renews it with the refresh token (accounts' rotation: the old one is used up) and hands
the browser the new cookie; a refresh token accounts refuses ends the session."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import httpx

from services.demo import DEMO_PASSWORD
from tests.web.browsing import SUPERVISOR
from tests.web.conftest import Platform
from web import session


def read(cookie: str | None) -> session.WebSession | None:
    """The session in a cookie as the server set it (quoted: its base64 holds '=')."""
    return session.decode(cookie.strip('"') if cookie else None)


def logged_in(platform: Platform) -> tuple[httpx.Client, session.WebSession]:
    client = httpx.Client(base_url=platform.base_url, timeout=30)
    page = client.get("/web/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    r = client.post(
        "/web/login",
        data={"username": SUPERVISOR, "password": DEMO_PASSWORD, "csrf_token": match.group(1)},
    )
    assert r.status_code == 303, r.text
    web = read(client.cookies.get(session.COOKIE))
    assert web is not None and web.refresh_token
    # a real session outlives its access token
    assert web.expires > web.token_expires
    return client, web


def with_cookie(client: httpx.Client, web: session.WebSession) -> None:
    client.cookies.set(session.COOKIE, session.encode(web))


def test_an_access_token_about_to_expire_is_renewed_and_the_cookie_replaced(
    platform_server: Platform,
) -> None:
    client, web = logged_in(platform_server)
    try:
        with_cookie(client, replace(web, token_expires=time.time() + 5))
        r = client.get("/web/dashboard")
        assert r.status_code == 200, r.text
        fresh = read(r.cookies.get(session.COOKIE))
        assert fresh is not None
        assert fresh.token != web.token and fresh.refresh_token != web.refresh_token
        assert (fresh.username, fresh.csrf, fresh.expires) == (web.username, web.csrf, web.expires)
        assert fresh.token_expires > time.time() + session.RENEW_SECONDS
        # the new cookie works without another renewal; the old refresh token is used up
        with_cookie(client, fresh)
        r = client.get("/web/dashboard")
        assert r.status_code == 200 and session.COOKIE not in r.cookies
        refused = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": web.refresh_token},
        )
        assert refused.status_code in (400, 401)
    finally:
        client.close()


def test_a_refused_refresh_ends_the_session(platform_server: Platform) -> None:
    client, web = logged_in(platform_server)
    try:
        with_cookie(client, replace(web, token_expires=time.time() - 1, refresh_token="nope"))
        r = client.get("/web/dashboard")
        assert r.status_code == 303
        assert r.headers["location"] == "/web/login?expired=true"
        assert 'hotline_session=""' in r.headers.get("set-cookie", "")
        with_cookie(client, replace(web, token_expires=time.time() - 1, refresh_token=None))
        r = client.get("/web/dashboard")
        assert r.status_code == 303 and r.headers["location"].startswith("/web/login")
    finally:
        client.close()
