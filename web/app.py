"""The web pages on a FastAPI app: `install(app)` puts them beside the services in one process
(embedded mode); `build()` is the pages alone, their own deployment in distributed mode,
calling the services at `WEB_SERVICE_URLS`."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web import session
from web.client import ApiProblem
from web.pages import auth, callbacks, dashboard, desk, dispatch, docs, screen, tickets, worklist
from web.pages.common import PageForbidden, render

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


def _to_login(request: Request, expired: bool) -> Response:
    target = "/web/login?expired=true" if expired else "/web/login"
    if request.headers.get("HX-Request"):  # htmx swaps a fragment: ask it to navigate instead
        return HTMLResponse("", headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, session.LoginRequired)
    expired = exc.message == "expired"
    response = _to_login(request, expired=expired)
    if expired:
        session.clear_cookie(response)
    return response


async def _api_problem(request: Request, exc: Exception) -> Response:
    """A service's problem a page did not handle: an expired token logs the user out; anything
    else is shown as an error page naming the service's message."""
    assert isinstance(exc, ApiProblem)
    if exc.status == 401:
        response = _to_login(request, expired=True)
        session.clear_cookie(response)
        return response
    web = session.optional(request)
    return render(request, "error.html", web, problem=exc, status_code=exc.status)


async def _page_forbidden(request: Request, exc: Exception) -> Response:
    web = session.optional(request)
    return render(request, "forbidden.html", web, status_code=403)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    web = session.optional(request)
    problem = ApiProblem(
        403, "请求已过期", "表单已过期或来源不明，未做任何更改。请刷新页面后重试。"
    )
    return render(request, "error.html", web, problem=problem, status_code=403)


def install(app: FastAPI, *, api_docs: bool = True) -> None:
    """The pages, their static files and the offline API docs on `app`. FastAPI has already
    added its CDN-backed /docs and /redoc routes; they are replaced by the vendored ones."""
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in DOCS_PATHS
    ]
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_middleware(session.RenewedCookie)
    if api_docs:
        app.include_router(docs.router, include_in_schema=False)
    for module in (auth, worklist, tickets, desk, dispatch, callbacks, dashboard, screen):
        app.include_router(module.router, include_in_schema=False)
    app.add_exception_handler(session.LoginRequired, _login_required)
    app.add_exception_handler(session.CsrfRejected, _csrf_rejected)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(PageForbidden, _page_forbidden)


def build() -> FastAPI:
    """The pages as their own app (distributed mode): `python -m web --port 8100`."""
    app = FastAPI(title="12345 hotline: web", docs_url=None, redoc_url=None, openapi_url=None)
    install(app, api_docs=False)  # each service serves its own /docs
    return app
