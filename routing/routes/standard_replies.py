"""Standard replies (规范答复): reply templates per category."""

from __future__ import annotations

from fastapi import APIRouter

from routing import standard_replies
from routing.routes.deps import Admin, Now, Reader, Session
from routing.routes.views import template_out
from routing.schemas import TemplateIn, TemplateOut
from shared.problems import problem_responses

router = APIRouter()


@router.get("/reply-templates", response_model=list[TemplateOut])
async def reply_templates(
    session: Session, who: Reader, category: str | None = None
) -> list[TemplateOut]:
    """规范答复: templates for a category and its parents, the most specific first."""
    return [template_out(t) for t in await standard_replies.templates_for(session, category)]


@router.post(
    "/reply-templates",
    status_code=201,
    response_model=TemplateOut,
    responses=problem_responses(413),
)
async def add_template(body: TemplateIn, session: Session, now: Now, who: Admin) -> TemplateOut:
    async with session.begin():
        t = await standard_replies.add_template(session, body, now=now)
    return template_out(t)
