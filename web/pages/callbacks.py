"""The callback desk (回访): the due callbacks, each with the citizen's two verdicts (解决, 满意)
and re-opening (重办), failed attempts, the citizen declining, a rating link for SMS or the
mini-program; and an operator's decision on a negative self-rating."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.client import ApiProblem, ServiceClient
from web.navigation import OPERATOR
from web.pages.common import Services, Session, allowed, form_of, render

router = APIRouter()


def _result(form: dict[str, str]) -> dict[str, Any]:
    return {
        "contacted_by_unit": form.get("contacted_by_unit") == "yes",
        "solved": form.get("solved", ""),
        "satisfaction": form.get("satisfaction", ""),
        "comment": form.get("comment") or None,
        "reopen": form.get("reopen") == "on",
        "reopen_reason": form.get("reopen_reason") or None,
    }


# action → (API path, body from the form, notice)
ACTIONS: dict[str, tuple[str, Any, str]] = {
    "result": ("result", _result, "已记录回访结果。"),
    "attempt": ("attempts", lambda f: {"outcome": f.get("outcome", "")}, "已记录未接通。"),
    "decline": ("decline", lambda f: {}, "已记录市民拒绝回访。"),
    "rating-link": ("rating-link", lambda f: {}, ""),
    "decision": (
        "decision",
        lambda f: {"reopen": f.get("reopen") == "on", "reason": f.get("reason") or None},
        "已处理自评结果。",
    ),
}
SHOWN = ("due", "review")


async def _desk(
    request: Request,
    web: Any,
    api: ServiceClient,
    *,
    status: str = "due",
    mine: bool = False,
    problem: ApiProblem | None = None,
    target: str = "",
    values: dict[str, str] | None = None,
    notice: str = "",
    link: dict[str, Any] | None = None,
) -> Response:
    status = status if status in SHOWN else "due"
    callbacks = await api.get("/api/v1/callbacks", status=status, mine=str(mine).lower())
    return render(
        request,
        "callbacks.html",
        web,
        callbacks=callbacks,
        status=status,
        mine=mine,
        problem=problem,
        errors=problem.field_errors() if problem else {},
        target=target,
        values=values or {},
        notice=notice,
        link=link,
        status_code=problem.status if problem else 200,
    )


@router.get("/web/callbacks", response_class=HTMLResponse)
async def desk(
    request: Request,
    web: Session,
    api: Services,
    status: str = "due",
    mine: bool = False,
    done: str = "",
) -> Response:
    allowed(web, OPERATOR)
    notice = ACTIONS[done][2] if done in ACTIONS else ""
    return await _desk(request, web, api, status=status, mine=mine, notice=notice)


@router.post("/web/callbacks/{callback_id}/{action}", response_class=HTMLResponse)
async def act(
    request: Request, callback_id: str, action: str, web: Session, api: Services
) -> Response:
    allowed(web, OPERATOR)
    form = await form_of(request, web)
    if action not in ACTIONS:
        return Response(status_code=404)
    path, body_of, _ = ACTIONS[action]
    status = "review" if action == "decision" else "due"
    try:
        answer = await api.post(f"/api/v1/callbacks/{callback_id}/{path}", body_of(form))
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await _desk(
            request,
            web,
            api,
            status=status,
            problem=problem,
            target=f"{callback_id}-{action}",
            values=form,
        )
    if action == "rating-link":  # shown once, to send to the citizen by SMS
        return await _desk(request, web, api, status=status, link=answer, notice="已生成评价链接。")
    return RedirectResponse(f"/web/callbacks?status={status}&done={action}", status_code=303)
