"""The dispatcher's queue (派单): tickets waiting for a lead unit and pending returns (退单);
why the catalogue chose (or could not choose) a unit; dispatch, re-dispatch (改派), approve or
reject a return, joint determination (联合认定) and the whistle (吹哨)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.client import ApiProblem, ServiceClient
from web.navigation import OPERATOR
from web.pages.common import Services, Session, allowed, attempt, form_of, render

router = APIRouter()


def _units(form: dict[str, str], name: str) -> list[str]:
    """A multi-unit field typed as ids separated by commas or spaces."""
    return [u for u in form.get(name, "").replace("，", ",").replace(",", " ").split() if u]


# action → (the API path under the ticket or the return, the body built from the form, notice)
TICKET_ACTIONS: dict[str, tuple[str, Any, str]] = {
    "dispatch": (
        "/api/v1/routing/tickets/{id}/dispatch",
        lambda f: {
            "lead_unit_id": f.get("lead_unit_id", ""),
            "assist_unit_ids": _units(f, "assist_unit_ids"),
            "reason": f.get("reason", ""),
        },
        "已派单。",
    ),
    "redispatch": (
        "/api/v1/routing/tickets/{id}/redispatch",
        lambda f: {
            "lead_unit_id": f.get("lead_unit_id", ""),
            "assist_unit_ids": _units(f, "assist_unit_ids"),
            "reason": f.get("reason", ""),
        },
        "已改派。",
    ),
    "determine": (
        "/api/v1/routing/tickets/{id}/determinations",
        lambda f: {
            "participants": _units(f, "participants"),
            "lead_unit_id": f.get("lead_unit_id", ""),
            "assist_unit_ids": _units(f, "assist_unit_ids"),
            "decision": f.get("decision", ""),
        },
        "已记录联合认定。",
    ),
    "whistle": (
        "/api/v1/routing/tickets/{id}/whistles",
        lambda f: {
            "department_ids": _units(f, "department_ids"),
            "hours": f.get("hours", ""),
            "reason": f.get("reason", ""),
        },
        "已吹哨，相关部门须按时报到。",
    ),
}
RETURN_ACTIONS: dict[str, tuple[str, Any, str]] = {
    "approve": (
        "/api/v1/returns/{id}/approve",
        lambda f: {"unit_id": f.get("unit_id") or None, "note": f.get("note", "")},
        "已同意退单并改派。",
    ),
    "reject": (
        "/api/v1/returns/{id}/reject",
        lambda f: {"note": f.get("note", "")},
        "已驳回退单。",
    ),
}


async def _queue_page(
    request: Request,
    web: Any,
    api: ServiceClient,
    *,
    problem: ApiProblem | None = None,
    target: str = "",
    values: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    queue, queue_problem = await attempt(api.get("/api/v1/routing/queue"))
    pending, returns_problem = await attempt(api.get("/api/v1/returns", status="pending"))
    units, _ = await attempt(api.get("/api/v1/units"))
    return render(
        request,
        "dispatch.html",
        web,
        queue=queue or [],
        returns=pending or [],
        units=units or [],
        list_problem=queue_problem or returns_problem,
        problem=problem,
        errors=problem.field_errors() if problem else {},
        target=target,
        values=values or {},
        notice=notice,
        status_code=problem.status if problem else 200,
    )


@router.get("/web/dispatch", response_class=HTMLResponse)
async def queue(request: Request, web: Session, api: Services, done: str = "") -> Response:
    allowed(web, OPERATOR)
    notice = {
        **{k: v[2] for k, v in TICKET_ACTIONS.items()},
        **{k: v[2] for k, v in RETURN_ACTIONS.items()},
    }.get(done, "")
    return await _queue_page(request, web, api, notice=notice)


@router.get("/web/dispatch/explain", response_class=HTMLResponse)
async def explain(request: Request, web: Session, api: Services, ticket_id: str) -> Response:
    """htmx: why the catalogue picks this lead unit, or why it picks none (职责清单依据)."""
    allowed(web, OPERATOR)
    ticket = await api.get(f"/api/v1/tickets/{ticket_id}")
    explained, problem = await attempt(
        api.post(
            "/api/v1/catalogue/explain",
            {
                "category": ticket["category"],
                "area_code": ticket["area_code"],
                "text": ticket["title"] + " " + ticket["description"],
            },
        )
    )
    return render(request, "partials/explain.html", web, explained=explained, problem=problem)


async def _act(
    request: Request,
    web: Any,
    api: ServiceClient,
    kind: str,
    id_: str,
    action: str,
    actions: dict[str, tuple[str, Any, str]],
) -> Response:
    form = await form_of(request, web)
    id_ = id_ or form.get("ticket_id", "").strip()
    if action not in actions:
        return Response(status_code=404)
    path, body_of, _notice = actions[action]
    try:
        await api.post(path.format(id=id_), body_of(form))
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await _queue_page(
            request, web, api, problem=problem, target=f"{kind}-{id_}-{action}", values=form
        )
    return RedirectResponse(f"/web/dispatch?done={action}", status_code=303)


@router.post("/web/dispatch/tickets/{action}", response_class=HTMLResponse)
async def ticket_action(request: Request, action: str, web: Session, api: Services) -> Response:
    """The ticket is a form field: the queue's rows and the by-number forms post alike."""
    allowed(web, OPERATOR)
    return await _act(request, web, api, "ticket", "", action, TICKET_ACTIONS)


@router.post("/web/dispatch/returns/{return_id}/{action}", response_class=HTMLResponse)
async def return_action(
    request: Request, return_id: str, action: str, web: Session, api: Services
) -> Response:
    allowed(web, OPERATOR)
    return await _act(request, web, api, "return", return_id, action, RETURN_ACTIONS)
