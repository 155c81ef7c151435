"""What every service's HTTP front door does before a route sees a request: a limit on the
body's size, and the client's address when the platform runs behind proxies.

- **Body size** (`HOTLINE_MAX_BODY_BYTES`, default 4 MiB; routes that take a file upload,
  `HOTLINE_MAX_UPLOAD_BYTES`, default 12 MiB): a larger `Content-Length` is answered 413 before
  anything is read; a body without one (chunked) is counted while it streams in and refused with
  413 as soon as it passes the limit, so a 90 MB body is never read, let alone parsed.
- **Control characters in the URL**: a path or a query parameter with NUL or another control
  character (which PostgreSQL cannot compare, and no one can see) is answered 422 naming it
  (`path`, `query.<name>`) before any route runs.
- **Client address** (`HOTLINE_TRUSTED_PROXIES`, comma-separated CIDRs, default none):
  `client_address(request)` is the socket peer, unless the peer is a trusted proxy; then it is
  the nearest address in `X-Forwarded-For` that is not itself a trusted proxy. A client that
  is not behind a trusted proxy cannot choose its address by sending the header.

`install_http_hygiene(app)` installs them; services/bootstrap.py calls it for every app.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Request, params
from fastapi.routing import APIRoute
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MiB = 1024 * 1024


class HttpSettings(BaseSettings):
    """The HTTP front door's settings (env prefix `HOTLINE_`)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    max_body_bytes: int = Field(4 * MiB, ge=1024)
    # Directory and catalogue files (CSV, Excel) are refused above 10 MB by routing itself;
    # this leaves room for the multipart envelope around one.
    max_upload_bytes: int = Field(12 * MiB, ge=1024)
    trusted_proxies: str = Field(
        "",
        description="comma-separated CIDRs (10.0.0.0/8,fd00::/8) of proxies trusted to set X-Forwarded-For",
    )

    def proxies(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.7` → networks; a bare address is a network of one."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


# ---------------------------------------------------------------------------- body size


class BodyTooLarge(HTTPException):
    """413: raised while the body streams in (FastAPI lets an HTTPException from reading the
    body through, and the problem handlers answer it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body: larger than the limit of {limit} bytes for this endpoint.")


def upload_routes(routes: Iterable[Any]) -> tuple[re.Pattern[str], ...]:
    """The paths of the routes that take a file (`File(...)`/`UploadFile` parameters)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute) and any(
            isinstance(p.field_info, params.File) for p in route.dependant.body_params
        ):
            found.append(route.path_regex)
    return tuple(found)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def control_in_url(scope: Scope) -> str | None:
    """`path` or `query.<name>` when it holds a control character, else None."""
    if _has_control(scope.get("path", "")):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if _has_control(name) or _has_control(value):
            return f"query.{name}"
    return None


class FrontDoor:
    """Pure ASGI middleware: 422 for a control character in the URL; 413 for a body over the
    limit, checked on `Content-Length` and again while the body streams in."""

    def __init__(
        self, app: ASGIApp, *, limit: int, upload_limit: int, routes: Sequence[Any] = ()
    ) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit
        self._routes = routes
        self._uploads: tuple[re.Pattern[str], ...] | None = None

    def limit_for(self, path: str) -> int:
        if self._uploads is None:  # routes are complete once the first request arrives
            self._uploads = upload_routes(self._routes)
        return self.upload_limit if any(p.match(path) for p in self._uploads) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = control_in_url(scope)
        if where is not None:
            message = "must not contain control characters"
            response = problem(
                Request(scope),
                422,
                "Invalid input",
                f"{where}: {message}",
                errors=[{"field": where, "message": message, "type": "control_character"}],
            )
            await response(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            detail = BodyTooLarge(limit).detail
            response = problem(
                Request(scope),
                413,
                "Content too large",
                detail,
                errors=[{"field": "body", "message": detail}],
            )
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------------- client address


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in proxies)


def forwarded_client(peer: str, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy; then, reading
    `X-Forwarded-For` from the nearest hop outwards, the first address that is not a trusted
    proxy (a malformed entry ends the walk at the hop before it)."""
    hop = _address(peer)
    if hop is None or not _trusted(hop, proxies):
        return peer
    entries = [part for header in forwarded_for for part in header.split(",") if part.strip()]
    client = str(hop)
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            break
        client = str(address)
        if not _trusted(address, proxies):
            break
    return client


def client_address(request: Request) -> str:
    """Who is asking, for rate limits and logs (see the module's docstring)."""
    peer = request.client.host if request.client else "unknown"
    proxies: tuple[Network, ...] = getattr(request.app.state, "trusted_proxies", ())
    if not proxies:
        return peer
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), proxies)


def install_http_hygiene(app: FastAPI, settings: HttpSettings | None = None) -> None:
    """The URL check, the body-size limit and the trusted proxies for `app`."""
    settings = settings or HttpSettings()
    app.state.trusted_proxies = settings.proxies()
    app.add_middleware(
        FrontDoor,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        routes=app.router.routes,
    )
