"""The OpenAPI document tells a gateway developer every problem a route answers, each as
application/problem+json with the one `Problem` schema; closed sets are enums there too."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from analytics import domain as analytics_domain
from analytics import rankings, reports
from analytics import router as analytics_router
from analytics.schemas import AreaLevelName, Granularity, Metric, ReportKind
from intake import channels
from intake.schemas import Channel
from services.bootstrap import build_app
from shared.problems import PROBLEM_JSON, PROBLEM_SCHEMA_REF
from shared.settings import PlatformSettings

# The services' routes under /api/v1 (accounts' and the operators' status included); Open311
# answers its errors in its own format (tested below).
OWN = "/api/v1/"
OPEN311 = "/open311/"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app(platform=PlatformSettings(load_demo=False)).openapi()


def operations(document: dict[str, Any], own: bool = False) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        if own and not path.startswith(OWN):
            continue
        for method, operation in item.items():
            found.append((f"{method.upper()} {path}", operation))
    return found


def test_every_problem_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    wrong = [
        (name, status)
        for name, operation in operations(document)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        and not (OPEN311 in name and status in OPEN311_ERRORS)
        and response.get("content") != {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
    ]
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


# Open311's own errors (its request-level ones; a body too large or a control character in the
# URL is refused before Open311 sees it, as problem+json).
OPEN311_ERRORS = ("400", "403", "404")


def test_open311_documents_its_own_error_format(document: dict[str, Any]) -> None:
    """GeoReport v2 clients read `[{"code": …, "description": …}]` (or its XML), so that is
    what the document says Open311's errors are, and each route names the ones it answers."""
    found = {
        name: {s: r for s, r in operation["responses"].items() if s in OPEN311_ERRORS}
        for name, operation in operations(document)
        if OPEN311 in name
    }
    assert {name: sorted(errors) for name, errors in found.items()} == {
        "GET /open311/v2/services.{fmt}": ["400"],
        "GET /open311/v2/services/{code}.{fmt}": ["400", "404"],
        "POST /open311/v2/requests.{fmt}": ["400", "403"],
        "GET /open311/v2/requests.{fmt}": ["400"],
        "GET /open311/v2/requests/{request_id}.{fmt}": ["400", "404"],
        "GET /open311/v2/tokens/{token}.{fmt}": ["400", "404"],
    }
    for errors in found.values():
        for response in errors.values():
            assert set(response["content"]) == {"application/json", "text/xml"}
            item = response["content"]["application/json"]["schema"]["items"]
            assert set(item["required"]) == {"code", "description"}
    assert "201" in document["paths"]["/open311/v2/requests.{fmt}"]["post"]["responses"]


def test_the_problem_schema_has_the_one_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "errors" in problem["properties"]
    entry = schemas[problem["properties"]["errors"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert set(entry["required"]) == {"field", "message"}


def _string_path_parameters(operation: dict[str, Any]) -> list[str]:
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["schema"].get("type") == "string" and "enum" not in p["schema"]
    ]


def test_every_route_of_the_services_documents_its_problems(document: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(document, own=True):
        documented = set(operation["responses"])
        expected = set()
        if "security" in operation:
            expected |= {"401", "403"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected.add("413")
        if name.startswith("GET ") and _string_path_parameters(operation):
            expected.add("404")
        if expected - documented:
            missing.append((name, sorted(expected - documented)))
    assert missing == []


def test_rate_limits_and_readiness_document_retry_after(document: dict[str, Any]) -> None:
    lookup = document["paths"]["/api/v1/miniprogram/lookup"]["post"]["responses"]["429"]
    assert "Retry-After" in lookup["headers"]


def _enum(document: dict[str, Any], path: str, name: str, method: str = "get") -> list[str]:
    parameter = next(p for p in document["paths"][path][method]["parameters"] if p["name"] == name)
    schema = parameter["schema"]
    options = schema.get("anyOf", [schema])
    values = [v for o in options for v in o.get("enum", [])]
    if not values:  # a $ref to an enum component
        ref = next(o["$ref"] for o in options if "$ref" in o).rsplit("/", 1)[-1]
        values = document["components"]["schemas"][ref]["enum"]
    return list(values)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/tickets", "status"),
        ("/api/v1/tickets", "channel"),
        ("/api/v1/assignments", "status"),
        ("/api/v1/returns", "status"),
        ("/api/v1/sla/extensions", "status"),
        ("/api/v1/sla/supervision", "status"),
        ("/api/v1/sla/supervision", "level"),
        ("/api/v1/sla/supervision", "reason"),
        ("/api/v1/callbacks", "status"),
        ("/api/v1/analytics/rates", "unit_class"),
        ("/api/v1/analytics/rankings", "metric"),
        ("/api/v1/analytics/hot-topics", "period"),
        ("/api/v1/analytics/hot-topics", "area_level"),
        ("/api/v1/analytics/reports/{kind}", "kind"),
        ("/api/v1/analytics/reports/{kind}", "format"),
    ],
)
def test_closed_sets_are_enums(document: dict[str, Any], path: str, name: str) -> None:
    assert len(_enum(document, path, name)) >= 2


def test_the_literals_match_the_rules_they_stand_for() -> None:
    assert get_args(Channel) == tuple(channels.NATIVE)
    assert get_args(Granularity) == analytics_domain.GRANULARITIES
    assert get_args(Metric) == rankings.RANKABLE
    assert get_args(ReportKind) == tuple(reports.KINDS)
    assert get_args(AreaLevelName) == analytics_router.AREA_LEVELS
