"""Log in (登录) through the accounts service's token endpoint, land on the role's first page,
log out."""

from __future__ import annotations

import secrets
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import session
from web.client import ApiProblem, ServiceClient, http_client
from web.navigation import home_of
from web.pages.common import TOKEN_PATH, Services, Session, attempt, form_of, render
from web.settings import web_settings

router = APIRouter()


def _login_page(request: Request, error: str = "", username: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    csrf = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        error=error,
        username=username,
        login_csrf=csrf,
        status_code=status,
    )
    response.set_cookie(
        session.LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=web_settings().cookie_secure,
        path="/web/login",
        max_age=3600,
    )
    return response


@router.get("/web/login", response_class=HTMLResponse)
async def login_form(request: Request, expired: bool = False) -> Response:
    return _login_page(request, "登录已过期，请重新登录。" if expired else "")


@router.post("/web/login", response_class=HTMLResponse)
async def login(
    request: Request,
    http: Annotated[httpx.AsyncClient, Depends(http_client)],
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(session.LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_page(request, "页面已过期，请重新提交。", username, status=403)
    if not username or not password:
        return _login_page(request, "请输入账号和密码。", username, status=422)
    accounts = ServiceClient(http, web_settings().service_urls, token=None)
    try:
        answer = await accounts.request(
            "POST",
            TOKEN_PATH,
            data={"username": username, "password": password, "grant_type": "password"},
        )
    except ApiProblem as problem:
        message = {
            400: "账号或密码不正确。",
            401: "账号或密码不正确。",
            404: "账号服务尚未部署，暂时无法登录。",
            429: "尝试次数过多，请稍后再试。",
        }.get(problem.status, problem.detail)
        return _login_page(request, message, username, status=problem.status)
    web = session.start(username, str(answer["access_token"]), answer.get("refresh_token"))
    response = RedirectResponse(home_of(web.role) or "/web/", status_code=303)
    session.set_cookie(response, web)
    response.delete_cookie(session.LOGIN_CSRF_COOKIE, path="/web/login")
    return response


@router.post("/web/logout")
async def logout(request: Request, web: Session, api: Services) -> Response:
    """Revoke the tokens at accounts (if it cannot be reached, the short access lifetime
    bounds them) and drop the cookie."""
    await form_of(request, web)
    await attempt(api.post("/api/v1/auth/logout", {"refresh_token": web.refresh_token}))
    response = RedirectResponse("/web/login", status_code=303)
    session.clear_cookie(response)
    return response


@router.get("/web/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The role's first page; a role with no workbench gets a page saying so."""
    web = session.optional(request)
    if web is None:
        return RedirectResponse("/web/login", status_code=303)
    target = home_of(web.role)
    if target:
        return RedirectResponse(target, status_code=303)
    return render(request, "no_workbench.html", web, status_code=403)


@router.get("/", include_in_schema=False)
async def root() -> Response:
    return RedirectResponse("/web/", status_code=307)
