"""The unit's worklist (承办): its assignments, overdue and due-soon first as sla's clocks say,
and one assignment's page with the actions routing allows now (签收, 首次联系, 进展备注, 申请延期,
办结反馈 with 规范答复 templates, 退单)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.client import ApiProblem, ServiceClient
from web.navigation import OPERATOR, UNIT
from web.pages.common import Services, Session, allowed, attempt, form_of, render

router = APIRouter()

# An action's form fields → the body routing expects; `None`: a bare POST.
ACTION_PATH = {
    "sign": "sign",
    "contact": "contact",
    "reply": "reply",
    "note": "notes",
    "extension": "extension",
    "return": "return",
}
FIELDS: dict[str, tuple[str, ...]] = {
    "reply": ("outcome", "explanation", "reason", "legal_path"),
    "note": ("text",),
    "extension": ("days", "reason"),
    "return": ("reason_code", "explanation"),
}
NOTICE = {
    "sign": "已签收。",
    "contact": "已记录首次联系。",
    "reply": "已提交办结反馈。",
    "note": "已添加进展备注。",
    "extension": "延期申请已提交，等待中心审批。",
    "return": "退单申请已提交，等待中心审核。",
}


async def deadline_states(api: ServiceClient) -> dict[str, str]:
    """assignment id → "overdue" or "due_soon", from sla's lists (the clocks own the rule)."""
    states: dict[str, str] = {}
    due_soon, _ = await attempt(api.get("/api/v1/sla/due-soon"))
    overdue, _ = await attempt(api.get("/api/v1/sla/overdue"))
    for row in due_soon or []:
        states[row["assignment_id"]] = "due_soon"
    for row in overdue or []:
        states[row["assignment_id"]] = "overdue"
    return states


def worklist_order(
    assignments: list[dict[str, Any]], states: dict[str, str]
) -> list[dict[str, Any]]:
    """Overdue first, then due soon, then the rest; the oldest dispatch first within each."""
    rank = {"overdue": 0, "due_soon": 1}
    return sorted(
        ({**a, "deadline": states.get(a["id"], "")} for a in assignments),
        key=lambda a: (rank.get(a["deadline"], 2), a["dispatched_at"]),
    )


@router.get("/web/worklist", response_class=HTMLResponse)
async def worklist(request: Request, web: Session, api: Services, status: str = "") -> Response:
    allowed(web, UNIT)
    assignments = await api.get("/api/v1/assignments", status=status or None)
    rows = worklist_order(assignments, await deadline_states(api))
    return render(request, "worklist.html", web, rows=rows, status=status)


async def _assignment_page(
    request: Request,
    web: Any,
    api: ServiceClient,
    assignment_id: str,
    *,
    problem: ApiProblem | None = None,
    action: str = "",
    values: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    assignment = await api.get(f"/api/v1/assignments/{assignment_id}")
    ticket, ticket_problem = await attempt(api.get(f"/api/v1/tickets/{assignment['ticket_id']}"))
    notes, _ = await attempt(api.get(f"/api/v1/assignments/{assignment_id}/notes"))
    templates, _ = await attempt(
        api.get("/api/v1/reply-templates", category=assignment["category"])
    )
    states = await deadline_states(api)
    return render(
        request,
        "assignment.html",
        web,
        a=assignment,
        deadline=states.get(assignment_id, ""),
        ticket=ticket,
        ticket_problem=ticket_problem,
        notes=notes or [],
        templates=templates or [],
        problem=problem,
        errors=problem.field_errors() if problem else {},
        failed_action=action,
        values=values or {},
        notice=notice,
        status_code=problem.status if problem else 200,
    )


@router.get("/web/assignments/{assignment_id}", response_class=HTMLResponse)
async def assignment_page(
    request: Request, assignment_id: str, web: Session, api: Services, done: str = ""
) -> Response:
    allowed(web, UNIT)
    return await _assignment_page(request, web, api, assignment_id, notice=NOTICE.get(done, ""))


@router.get("/web/reply-text", response_class=HTMLResponse)
async def reply_text(
    request: Request,
    web: Session,
    api: Services,
    category: str = "",
    template_id: str = "",
    field: str = "explanation",
) -> Response:
    """htmx: the chosen 规范答复's text into a unit's reply or an operator's on-the-spot answer."""
    allowed(web, UNIT | OPERATOR)
    templates = await api.get("/api/v1/reply-templates", category=category or None)
    text = next((t["text"] for t in templates if t["id"] == template_id), "")
    name = "answer" if field == "answer" else "explanation"
    return render(request, "partials/reply_explanation.html", web, text=text, name=name)


@router.post("/web/assignments/{assignment_id}/{action}", response_class=HTMLResponse)
async def act(
    request: Request, assignment_id: str, action: str, web: Session, api: Services
) -> Response:
    allowed(web, UNIT)
    form = await form_of(request, web)
    if action not in ACTION_PATH:
        return Response(status_code=404)
    body: dict[str, Any] = {f: form[f] for f in FIELDS.get(action, ()) if form.get(f, "") != ""}
    try:
        await api.post(f"/api/v1/assignments/{assignment_id}/{ACTION_PATH[action]}", body)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await _assignment_page(
            request, web, api, assignment_id, problem=problem, action=action, values=form
        )
    return RedirectResponse(f"/web/assignments/{assignment_id}?done={action}", status_code=303)
