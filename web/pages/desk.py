"""The operator desk (受理台): a new ticket as a call is taken — the caller's history by phone,
intake's category suggestions with their reasons, intake's same-matter candidates (同一诉求候选)
to confirm one or none, an on-the-spot answer (在线解答) with 规范答复 templates — and the ticket
number to read back to the citizen."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web import labels
from web.client import ApiProblem
from web.navigation import OPERATOR
from web.pages.common import Services, Session, allowed, attempt, form_of, render

router = APIRouter()
FINISHED = ("closed", "answered")  # listed after the caller's open tickets
TOP = 3  # categories offered to pick from


def report_of(form: dict[str, str]) -> dict[str, Any]:
    """The form as intake's unified report (TicketIn): empty fields are left out, so intake's
    own defaults and checks apply."""
    keys = ("kind", "category", "urgency", "title", "description", "address", "area_code")
    body: dict[str, Any] = {"channel": "phone", **{k: form[k] for k in keys if form.get(k)}}
    anonymous = form.get("citizen.anonymous") == "on"
    body["citizen"] = {
        "name": form.get("citizen.name") or None,
        "phone": form.get("citizen.phone") or None,
        "anonymous": anonymous,
    }
    if form.get("answer"):
        body["answer"] = form["answer"]
    if form.get("same_matter_of"):
        body["same_matter_of"] = form["same_matter_of"]
    top = [
        form[f"suggestion.top_{i}"] for i in range(1, TOP + 1) if form.get(f"suggestion.top_{i}")
    ]
    if top and form.get("suggestion.source"):
        body["suggestion"] = {
            "top": top,
            "source": form["suggestion.source"],
            "model_version": form.get("suggestion.model_version") or None,
        }
    return body


def offered(suggestion: dict[str, Any]) -> list[str]:
    """The categories the desk offers to pick from, best first: the suggested one, then its
    alternatives, at most `TOP` (and exactly what goes with the ticket as shown)."""
    first = [suggestion["category"]] if suggestion.get("category") else []
    rest = [a["category"] for a in suggestion.get("alternatives", []) if a["category"] not in first]
    return [*first, *rest][:TOP]


def draft_of(form: dict[str, str]) -> dict[str, Any] | None:
    """The report typed so far as intake's same-matter question (SameMatterIn), or None while
    it has no category or no text to compare."""
    if not form.get("category") or not (form.get("title") or form.get("description")):
        return None
    keys = ("category", "title", "description", "address", "area_code")
    body: dict[str, Any] = {k: form[k] for k in keys if form.get(k)}
    if form.get("citizen.phone") and form.get("citizen.anonymous") != "on":
        body["citizen"] = {
            "phone": form["citizen.phone"],
            "name": form.get("citizen.name") or None,
        }
    return body


def _desk(
    request: Request,
    web: Any,
    *,
    values: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> Response:
    return render(
        request,
        "desk.html",
        web,
        values=values or {"urgency": "ordinary", "kind": "complaint"},
        problem=problem,
        errors=problem.field_errors() if problem else {},
        # One key per form: a resubmitted form (a double click, a retry) gets the same ticket.
        idempotency_key=(values or {}).get("idempotency_key") or secrets.token_hex(16),
        status_code=problem.status if problem else 200,
    )


@router.get("/web/desk", response_class=HTMLResponse)
async def desk(request: Request, web: Session) -> Response:
    allowed(web, OPERATOR)
    return _desk(request, web)


@router.post("/web/desk", response_class=HTMLResponse)
async def take_call(request: Request, web: Session, api: Services) -> Response:
    allowed(web, OPERATOR)
    form = await form_of(request, web)
    try:
        ticket = await api.post(
            "/api/v1/tickets",
            report_of(form),
            headers={"Idempotency-Key": form.get("idempotency_key", "")},
        )
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return _desk(request, web, values=form, problem=problem)
    return render(
        request,
        "desk_done.html",
        web,
        ticket=ticket,
        # The caller's own ticket confirmed: the report was linked to it as a repeat.
        repeated=bool(form.get("same_matter_of")) and ticket["id"] == form["same_matter_of"],
    )


@router.get("/web/desk/history", response_class=HTMLResponse)
async def caller_history(request: Request, web: Session, api: Services) -> Response:
    """htmx: the caller's earlier tickets (来电历史), open ones first."""
    allowed(web, OPERATOR)
    phone = request.query_params.get("citizen.phone", "").strip()
    found, problem = (None, None)
    if phone:
        # The phone goes in the body (intake keeps it out of URLs and access logs).
        found, problem = await attempt(api.post("/api/v1/tickets/by-caller", {"phone": phone}))
    tickets = sorted(found or [], key=lambda t: t["status"] in FINISHED)
    return render(
        request, "partials/desk_history.html", web, tickets=tickets, problem=problem, phone=phone
    )


@router.post("/web/desk/suggest", response_class=HTMLResponse)
async def suggest(request: Request, web: Session, api: Services) -> Response:
    """htmx: intake's classification help (分类建议) for the text so far, with its reasons; the
    categories offered go with the ticket as shown (the true override rate)."""
    allowed(web, OPERATOR)
    form = await form_of(request, web)
    suggestion, problem = None, None
    if form.get("description"):
        suggestion, problem = await attempt(
            api.post(
                "/api/v1/classify",
                {
                    "title": form.get("title", ""),
                    "description": form["description"],
                    # the lead-unit suggestion also reads the category and the address
                    "category": form.get("category") or None,
                    "address": form.get("address") or None,
                },
            )
        )
    return render(
        request,
        "partials/desk_suggestions.html",
        web,
        suggestion=suggestion,
        offered=offered(suggestion) if suggestion else [],
        problem=problem,
    )


@router.post("/web/desk/same-matter", response_class=HTMLResponse)
async def same_matter(request: Request, web: Session, api: Services) -> Response:
    """htmx: intake's same-matter candidates (同一诉求候选) for the report typed so far, each
    to confirm (the report's `same_matter_of`), or none; a choice still listed stays chosen."""
    allowed(web, OPERATOR)
    form = await form_of(request, web)
    draft = draft_of(form)
    found, problem = None, None
    if draft is not None:
        found, problem = await attempt(api.post("/api/v1/same-matter/candidates", draft))
    candidates = (found or {}).get("candidates", [])
    chosen = form.get("same_matter_of", "")
    return render(
        request,
        "partials/desk_same_matter.html",
        web,
        asked=draft is not None,
        found=found,
        candidates=candidates,
        chosen=chosen if any(c["ticket_id"] == chosen for c in candidates) else "",
        problem=problem,
    )


@router.get("/web/desk/category", response_class=HTMLResponse)
async def pick_category(request: Request, web: Session, value: str = "") -> Response:
    """htmx: the category field holding the suggestion the operator picked (and the same-matter
    candidates asked again for it)."""
    allowed(web, OPERATOR)
    response = render(request, "partials/desk_category.html", web, value=value, errors={})
    response.headers["HX-Trigger"] = "category-picked"
    return response


CHOICES = {"kind": ("诉求类型", labels.KIND), "urgency": ("紧急程度", labels.URGENCY)}


@router.get("/web/desk/choice", response_class=HTMLResponse)
async def pick_choice(request: Request, web: Session, field: str = "", value: str = "") -> Response:
    """htmx: the kind or urgency field holding the suggested value the operator took (采用)."""
    allowed(web, OPERATOR)
    if field not in CHOICES:
        raise ApiProblem(404, "没有这个字段", "只有诉求类型和紧急程度可以采用建议。")
    title, options = CHOICES[field]
    return render(
        request,
        "partials/desk_choice.html",
        web,
        field=field,
        title=title,
        options=options,
        value=value,
        errors={},
    )


@router.get("/web/desk/templates", response_class=HTMLResponse)
async def answer_templates(request: Request, web: Session, api: Services) -> Response:
    """htmx: 规范答复 templates for the category, to answer on the spot."""
    allowed(web, OPERATOR)
    category = request.query_params.get("category", "")
    templates, _ = await attempt(api.get("/api/v1/reply-templates", category=category or None))
    return render(request, "partials/desk_templates.html", web, templates=templates or [])
