"""RFC 9457 `application/problem+json` for every 4xx/5xx answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JSONResponse):
    """Starlette's JSON (UTF-8, no \\uXXXX escapes) with the problem media type."""

    media_type = PROBLEM_JSON


def problem(
    request: Request, status: int, title: str, detail: str, **extra: Any
) -> ProblemResponse:
    body = {
        "type": f"https://hotline.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(extra.get("retry_after"), int):  # seconds to wait, also as the HTTP header
        headers["Retry-After"] = str(extra["retry_after"])
    return ProblemResponse(body, status_code=status, headers=headers or None)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


async def _on_domain_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, DomainError)
    return problem(request, exc.status, exc.title, exc.detail, **exc.extra)


async def _on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(e["loc"]), "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(request, 422, "Invalid input", summary, errors=errors)


async def _on_http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}.get(
        exc.status_code, "HTTP error"
    )
    return problem(request, exc.status_code, title, str(exc.detail))


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("unhandled error on %s", request.url.path)
    return problem(request, 500, "Internal error", "An unexpected error occurred; it was logged.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
