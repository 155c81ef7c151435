"""Standard replies (规范答复): reply templates per category, which supervisors write and
units read when they reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain
from routing.models import ReplyTemplate
from routing.reference import new_id
from routing.schemas import TemplateIn


async def add_template(session: AsyncSession, body: TemplateIn, *, now: datetime) -> ReplyTemplate:
    """A new template for a category and everything below it."""
    template = ReplyTemplate(
        id=new_id("T"),
        category=body.category.strip("/"),
        outcome=body.outcome,
        title=body.title,
        text=body.text,
        created_at=now,
    )
    session.add(template)
    return template


async def templates_for(session: AsyncSession, category: str | None) -> list[ReplyTemplate]:
    """规范答复 for a category: its own templates and its parents', the most specific first."""
    rows = (await session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id))).all()
    if category is None:
        return list(rows)
    fitting = [t for t in rows if domain.category_matches(t.category, category)]
    return sorted(fitting, key=lambda t: (-t.category.count("/"), t.id))
