"""The pages' HTTP client of the five services: every call carries the signed-in user's own
token, so each service decides what this user may see and do, exactly as for any other client.

In one process the services are reached through an ASGI transport on the same app; in
distributed mode through the base URL of the service that owns the path
(`WEB_SERVICE_URLS`). A service that cannot be reached becomes a 503 problem naming it, which
the page shows instead of failing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

from web import labels
from web.settings import web_settings

# Which service owns which path prefix (longest prefix first where they nest).
OWNER_OF_PREFIX: tuple[tuple[str, str], ...] = (
    ("/api/v1/auth", "accounts"),
    ("/api/v1/tickets", "intake"),
    ("/api/v1/classify", "intake"),
    ("/api/v1/channels", "intake"),
    ("/api/v1/same-matter", "intake"),
    ("/api/v1/sla", "sla"),
    ("/api/v1/callbacks", "callback"),
    ("/api/v1/ratings", "callback"),
    ("/api/v1/analytics", "analytics"),
    ("/api/v1/", "routing"),  # areas, units, catalogue, reply-templates, assignments, returns …
)
IN_PROCESS_BASE = "http://hotline"


def owner_of(path: str) -> str:
    return next(service for prefix, service in OWNER_OF_PREFIX if path.startswith(prefix))


@dataclass
class ApiProblem(Exception):
    """A service's problem+json answer (or a stand-in for an unreachable service)."""

    status: int
    title: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    def field_errors(self) -> dict[str, str]:
        """`errors: [{field, message}]` by field name, for the messages beside the fields; a
        problem that names one field in `field` counts as that field's error."""
        found = {
            _form_field(str(e["field"])): str(e.get("message"))
            for e in self.errors
            if e.get("field")
        }
        if not found and self.body.get("field"):
            found[_form_field(str(self.body["field"]))] = self.detail
        return found


LOCATIONS = ("body.", "query.", "path.", "header.")


def _form_field(located: str) -> str:
    """The API's located field path (`body.citizen.phone`) as the form names its field
    (`citizen.phone`): the forms post to the page, not to where the API reads it from."""
    for location in LOCATIONS:
        if located.startswith(location):
            return located.removeprefix(location)
    return located


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiProblem(
        status=response.status_code,
        title=labels.PROBLEM_TITLE.get(
            response.status_code, str(body.get("title", response.reason_phrase))
        ),
        detail=str(body.get("detail", response.text[:300])),
        errors=list(body.get("errors") or []),
        body=body,
    )


class ServiceClient:
    """The calls one page makes for one user."""

    def __init__(self, http: httpx.AsyncClient, urls: Mapping[str, str], token: str | None) -> None:
        self.http = http
        self.urls = urls
        self.token = token

    def _url(self, path: str) -> str:
        base = self.urls.get(owner_of(path))
        return base.rstrip("/") + path if base else IN_PROCESS_BASE + path

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The call with the user's token; a problem answer or an unreachable service is an
        ApiProblem."""
        headers = {**(headers or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.http.request(
                method, self._url(path), params=query, json=json, data=data, headers=headers
            )
        except httpx.HTTPError as exc:
            service = owner_of(path)
            raise ApiProblem(
                503,
                "服务暂不可用",
                f"{service} 服务无法访问（{exc.__class__.__name__}），请稍后重试。",
            ) from None
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def request(self, method: str, path: str, **options: Any) -> Any:
        """The call's JSON answer (None when it has no body); `options` as for `send`."""
        response = await self.send(method, path, **options)
        return response.json() if response.content else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params=params)

    async def download(self, path: str, **params: Any) -> httpx.Response:
        """A file the service makes (an Excel or CSV report): its response as it came."""
        return await self.send("GET", path, params=params)

    async def post(
        self, path: str, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        body = json if json is not None else {}
        return await self.request("POST", path, json=body, headers=headers)


async def http_client(request: Request) -> AsyncIterator[httpx.AsyncClient]:
    """One httpx client per page request: to this very app in-process (the services are
    mounted on it), and to the configured base URLs for the rest."""
    settings = web_settings()
    transport = httpx.ASGITransport(app=request.app)
    mounts = {"http://hotline": transport}
    async with httpx.AsyncClient(
        mounts=mounts, timeout=settings.timeout_seconds, follow_redirects=False
    ) as client:
        yield client
