"""The ticket page (工单详情): everything one reader may see of a ticket — intake's text and
timeline (masked by role), routing's assignments, sla's clocks, extensions and supervision,
callback's history and the lead unit's figures — each section from its owner's API; and the
centre's ticket search (工单查询)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.navigation import TICKET_READERS, page
from web.pages.common import Services, Session, allowed, attempt, render

router = APIRouter()


@router.get("/web/tickets", response_class=HTMLResponse)
async def search(
    request: Request, web: Session, api: Services, q: str = "", status: str = ""
) -> Response:
    allowed(web, page("tickets").roles)
    found, problem = await attempt(
        api.get("/api/v1/tickets", q=q or None, status=status or None, limit=100)
    )
    return render(
        request, "tickets.html", web, tickets=found or [], problem=problem, q=q, status=status
    )


@router.get("/web/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: str, web: Session, api: Services) -> Response:
    allowed(web, TICKET_READERS)
    ticket = await api.get(f"/api/v1/tickets/{ticket_id}")
    routed, routed_problem = await attempt(api.get(f"/api/v1/routing/tickets/{ticket_id}"))
    sla, sla_problem = await attempt(api.get(f"/api/v1/sla/tickets/{ticket_id}"))
    callbacks, callbacks_problem = await attempt(api.get("/api/v1/callbacks", ticket_id=ticket_id))
    figures, figures_problem = None, None
    if ticket.get("lead_unit"):
        figures, figures_problem = await attempt(
            api.get("/api/v1/analytics/rates", unit_id=ticket["lead_unit"]["id"])
        )
    return render(
        request,
        "ticket.html",
        web,
        ticket=ticket,
        routed=routed,
        routed_problem=routed_problem,
        sla=sla,
        sla_problem=sla_problem,
        callbacks=callbacks,
        callbacks_problem=callbacks_problem,
        figures=figures,
        figures_problem=figures_problem,
    )
