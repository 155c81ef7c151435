"""What every page module uses: the templates, the signed-in user's service client, the role
check of a page, form reading with its CSRF check, and rendering."""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from web import labels, session
from web.assets import asset_path
from web.client import ApiProblem, ServiceClient, http_client
from web.navigation import pages_for
from web.session import CSRF_FIELD, WebSession
from web.settings import web_settings

T = TypeVar("T")

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


def percent(value: object) -> str:
    """A rate as the centre writes it (98.1%); a dash when nothing is in the denominator."""
    return "—" if not isinstance(value, int | float) else f"{value * 100:.1f}%"


def when(value: object) -> str:
    """An ISO instant as China time to the minute (the services answer in +08:00)."""
    return str(value)[:16].replace("T", " ") if value else ""


TEMPLATES.env.filters.update(percent=percent, when=when)
TEMPLATES.env.globals.update(
    labels=labels,
    label=labels.label,
    asset=asset_path,
    csrf_field=CSRF_FIELD,
)

TOKEN_PATH = "/api/v1/auth/token"


async def signed_in(
    request: Request, http: Annotated[httpx.AsyncClient, Depends(http_client)]
) -> WebSession:
    """The user's session, its access token renewed with the refresh token when it is about to
    expire (the response then carries the new cookie: session.RenewedCookie). A refresh the
    accounts service refuses (used up, revoked, expired) ends the session."""
    web = session.current(request)
    if not session.needs_renewal(web):
        return web
    if not web.refresh_token:
        raise session.LoginRequired()
    accounts = ServiceClient(http, web_settings().service_urls, token=None)
    try:
        answer = await accounts.request(
            "POST",
            TOKEN_PATH,
            data={"grant_type": "refresh_token", "refresh_token": web.refresh_token},
        )
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        raise session.LoginRequired("expired") from None
    fresh = session.renewed(web, str(answer["access_token"]), answer.get("refresh_token"))
    request.state.renewed = fresh
    return fresh


Session = Annotated[WebSession, Depends(signed_in)]


async def service_client(
    web: Session, http: Annotated[httpx.AsyncClient, Depends(http_client)]
) -> ServiceClient:
    return ServiceClient(http, web_settings().service_urls, web.token)


Services = Annotated[ServiceClient, Depends(service_client)]


class PageForbidden(Exception):
    """This role has no business on this page (its navigation does not show it)."""


def allowed(web: WebSession, roles: frozenset[str]) -> None:
    if web.role not in roles:
        raise PageForbidden()


async def form_of(request: Request, web: WebSession) -> dict[str, str]:
    """The posted form's text fields, after its CSRF token is checked."""
    form = await request.form()
    session.check_csrf(request, web, form.get(CSRF_FIELD))
    return {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}


async def attempt(call: Awaitable[T]) -> tuple[T | None, ApiProblem | None]:
    """A call whose failure is shown on the page (a section the role may not see, a service
    that is down) instead of failing the whole page."""
    try:
        return await call, None
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return None, problem


# The pages load only this server's files: a stray external URL fails here, not silently.
PAGE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'"
)


def render(
    request: Request,
    template: str,
    web: WebSession | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": web,
            "nav": pages_for(web.role) if web else [],
            "csrf": web.csrf if web else "",
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response
