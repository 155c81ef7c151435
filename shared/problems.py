"""RFC 9457 `application/problem+json` for every 4xx/5xx answer, in one shape:

    {"type": …, "title": …, "status": …, "detail": …, "instance": …,
     "errors": [{"field": "body.citizen.phone", "message": …}, …]}

`errors` is always there (empty when no field is at fault). A field is a path that says where
it is: `body.…`, `query.…`, `path.…` or `header.…`, then the names (and list positions) inside.
A domain error that names one field (`DomainError(detail, field="category")`) gives one entry,
placed by the route's declared parameters; other members a domain error carries
(`allowed_actions`, `status_now`, `retry_after` …) stay top-level members. `detail` is one
readable sentence naming the fields. 429 and 503 always carry `Retry-After`.

`problem_responses(…)` documents problems in the OpenAPI; `install_problem_handlers` also makes
the document's schema `Problem` and its default 422 answer match what is really sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import is_outage
from shared.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
# Seconds a client should wait when a 429 or 503 does not say.
DEFAULT_RETRY_AFTER = {429: 1, 503: 5}
LOCATIONS = ("body", "query", "path", "header", "cookie")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Not ready",
}


class FieldProblem(BaseModel):
    """One thing wrong with the request, and where."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(
        description="where: body.…, query.…, path.… or header.…, then the names inside",
        examples=["body.citizen.phone"],
    )
    message: str = Field(examples=["String should have at most 32 characters"])


class Problem(BaseModel):
    """RFC 9457 problem details: every 4xx/5xx answer of every service."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://hotline.example/problems/invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["body.title: String should have at least 1 character"])
    instance: str | None = Field(default=None, examples=["/api/v1/tickets"])
    errors: list[FieldProblem] = Field(
        default_factory=list, description="each field at fault; empty when none is"
    )


class ProblemResponse(JSONResponse):
    """Starlette's JSON (UTF-8, no \\uXXXX escapes) with the problem media type."""

    media_type = PROBLEM_JSON


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    errors: Sequence[Mapping[str, Any]] = (),
    **extra: Any,
) -> ProblemResponse:
    body = {
        "type": f"https://hotline.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "errors": [dict(e) for e in errors],
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    retry_after = extra.get("retry_after", DEFAULT_RETRY_AFTER.get(status))
    if isinstance(retry_after, int):  # seconds to wait, also as the HTTP header
        headers["Retry-After"] = str(retry_after)
    return ProblemResponse(body, status_code=status, headers=headers or None)


# ---------------------------------------------------------------------------- field paths


def _path(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _locator(request: Request) -> Callable[[str], str]:
    """Where a field a domain error names lives, from the matched route's parameters: a path,
    query or header parameter by its (alias) name, else the body when the route takes one."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return lambda field: field
    where: dict[str, str] = {}
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        for location, params in (
            ("header", dependant.header_params),
            ("query", dependant.query_params),
            ("path", dependant.path_params),
        ):
            where.update({p.alias: location for p in params})
        pending.extend(dependant.dependencies)
    has_body = route.body_field is not None

    def locate(field: str) -> str:
        head = field.split(".", 1)[0].split("[", 1)[0]
        if head in where:
            return f"{where[head]}.{field}"
        if head in LOCATIONS:
            return field  # already placed ("body" is the body as a whole)
        return f"body.{field}" if has_body else field

    return locate


def _domain_errors(
    request: Request, exc: DomainError
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    extra = dict(exc.extra)
    field = extra.pop("field", None)
    given = extra.pop("errors", None)
    locate = _locator(request)
    if isinstance(given, list) and given:
        errors = [
            {**e, "field": locate(str(e["field"]))} if e.get("field") else dict(e) for e in given
        ]
    elif field:
        errors = [{"field": locate(str(field)), "message": exc.detail}]
    else:
        errors = []
    return errors, extra


def _validation_entry(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = tuple(error["loc"])
    if error["type"] == "json_invalid":
        # FastAPI puts the character offset in `loc`; the field is the body as a whole.
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        return {
            "field": "body",
            "message": f"the body is not valid JSON ({reason}{at})",
            "type": error["type"],
        }
    if loc == ("body",) and error["type"] == "missing":
        return {"field": "body", "message": "a JSON body is required", "type": "missing"}
    return {"field": _path(loc), "message": error["msg"], "type": error["type"]}


def _summary(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors)


# ---------------------------------------------------------------------------- handlers


async def _on_domain_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, DomainError)
    errors, extra = _domain_errors(request, exc)
    return problem(request, exc.status, exc.title, exc.detail, errors=errors, **extra)


async def _on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_validation_entry(e) for e in exc.errors()]
    return problem(request, 422, "Invalid input", _summary(errors), errors=errors)


# FastAPI's answer to a body it cannot decode at all (not UTF-8, a broken multipart form).
BODY_PARSE_ERROR = "There was an error parsing the body"


def _unreadable_body(exc: StarletteHTTPException) -> dict[str, Any] | None:
    """FastAPI answers a body it cannot decode with a bare 400. It is invalid input like a body
    that is not JSON, so it is the same documented 422 naming the body (found by fuzzing)."""
    if exc.status_code != 400 or exc.detail != BODY_PARSE_ERROR or exc.__cause__ is None:
        return None
    reason = "it is not UTF-8 text" if isinstance(exc.__cause__, UnicodeError) else "malformed"
    return {
        "field": "body",
        "message": f"the body cannot be read ({reason})",
        "type": "body_unreadable",
    }


async def _on_http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    unreadable = _unreadable_body(exc)
    if unreadable:
        return problem(request, 422, "Invalid input", _summary([unreadable]), errors=[unreadable])
    title = TITLES.get(exc.status_code, "HTTP error")
    errors = [{"field": "body", "message": str(exc.detail)}] if exc.status_code == 413 else []
    response = problem(request, exc.status_code, title, str(exc.detail), errors=errors)
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    if is_outage(exc):
        # The service's database is restarting or every pooled connection is busy: nothing was
        # written, and the same request will work shortly (the fault drills saw 500s here).
        log.warning("database unavailable on %s: %r", request.url.path, exc)
        return problem(
            request,
            503,
            "Service unavailable",
            "The service cannot reach its database right now; nothing was changed. Try again.",
            retry_after=OUTAGE_RETRY_AFTER,
        )
    log.exception("unhandled error on %s", request.url.path)
    return problem(request, 500, "Internal error", "An unexpected error occurred; it was logged.")


OUTAGE_RETRY_AFTER = 5  # seconds: a restart or a burst of queued requests


# ---------------------------------------------------------------------------- OpenAPI


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status answered with a `Problem` as
    application/problem+json (429 and 503 with their `Retry-After`)."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": TITLES.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        if status in DEFAULT_RETRY_AFTER:
            response["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
            }
        documented[status] = response
    return documented


# What every authenticated route may answer; a route adds its own (404, 409 …).
AUTHENTICATED = (401, 403, 422)
# What a route that takes a body may answer besides.
WITH_BODY = (413, 422)


FASTAPI_VALIDATION_SCHEMA = {"$ref": "#/components/schemas/HTTPValidationError"}


def _own_format(response: Mapping[str, Any]) -> bool:
    """Whether a documented 4xx/5xx is already problem+json, or in a format the route
    documented as its own (Open311's error list). What FastAPI fills in by itself (an empty
    application/json schema, or its HTTPValidationError for 422) is not what is sent."""
    content = response.get("content", {})
    if PROBLEM_JSON in content:
        return True
    schemas = [media.get("schema") or {} for media in content.values()]
    return any(schema and schema != FASTAPI_VALIDATION_SCHEMA for schema in schemas)


def _document(app: FastAPI) -> None:
    """The app's OpenAPI document with `Problem` among its schemas, and FastAPI's default 422
    (documented as application/json `HTTPValidationError`) as what is really sent."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem_schema.pop("$defs", {}), Problem=problem_schema)
        for path in document.get("paths", {}).values():
            for operation in path.values():
                if not isinstance(operation, dict):
                    continue
                for status, response in operation.get("responses", {}).items():
                    if status[:1] in "45" and not _own_format(response):
                        response["content"] = {
                            PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}
                        }
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in schemas and unused not in str(document.get("paths")):
                del schemas[unused]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    _document(app)
