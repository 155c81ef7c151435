"""Where training examples come from: a labelled CSV file, or intake's own tickets.

A CSV has the columns `title` (optional), `description` and `category` (a taxonomy path such
as 城市管理/市容环境/占道经营), or instead of `category` the levels `category_1`, `category_2`,
`category_3` (or 一级分类, 二级分类, 三级分类), joined into a path. An optional `name` column is
the citizen's name, scrubbed from the text (phones and card numbers always are).

From the tickets, the label is the category the ticket ended with, for handled tickets whose
category an operator or the channel gave (`category_source` given): a suggestion accepted
without a look teaches nothing and is left out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.learning import Example
from intake.models import Ticket
from shared.redaction import redact

LEVELS = (("category_1", "category_2", "category_3"), ("一级分类", "二级分类", "三级分类"))
TITLE = ("title", "留言主题", "标题")
DESCRIPTION = ("description", "留言详情", "content", "诉求件内容")
HANDLED = ("answered", "replied", "closed")


class BadFile(ValueError):
    """The file lacks a column training needs."""


def _column(fields: Sequence[str], names: Sequence[str]) -> str | None:
    return next((n for n in names if n in fields), None)


def category_of(row: dict[str, str], fields: Sequence[str]) -> str:
    """The row's category path: `category`, or its levels joined."""
    if "category" in fields:
        return "/".join(p.strip() for p in (row.get("category") or "").split("/") if p.strip())
    for levels in LEVELS:
        if levels[0] in fields:
            return "/".join(filter(None, ((row.get(c) or "").strip() for c in levels)))
    return ""


def read_rows(file: IO[str]) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header and rows of a CSV (RFC 4180, UTF-8 with or without BOM)."""
    reader = csv.DictReader(file)
    fields = [f.strip().lstrip("\ufeff") for f in reader.fieldnames or []]
    reader.fieldnames = fields
    if _column(fields, DESCRIPTION) is None:
        raise BadFile(f"the file needs a `description` column; it has {', '.join(fields)}")
    return fields, iter(reader)


def text_columns(fields: Sequence[str]) -> tuple[str | None, str]:
    description = _column(fields, DESCRIPTION)
    assert description is not None
    return _column(fields, TITLE), description


def from_csv(file: IO[str]) -> list[Example]:
    """Labelled examples from a CSV; rows without a category or text are skipped, and texts
    are scrubbed (`shared.redaction.redact`) before they are kept."""
    fields, rows = read_rows(file)
    if "category" not in fields and not any(levels[0] in fields for levels in LEVELS):
        raise BadFile("the file needs a `category` column (or category_1 …)")
    title, description = text_columns(fields)
    examples = []
    for row in rows:
        category = category_of(row, fields)
        names = [row.get("name")]
        head = redact((row.get(title) or "") if title else "", names).strip()
        body = redact(row.get(description) or "", names).strip()
        if category and (head or body):
            examples.append(Example(head, body, category))
    return examples


async def from_tickets(
    session: AsyncSession, *, since: datetime | None = None, limit: int = 200_000
) -> list[Example]:
    """Labelled examples from intake's handled tickets (newest first, at most `limit`)."""
    statement = (
        select(Ticket.title, Ticket.description, Ticket.category, Ticket.citizen_name)
        .where(Ticket.status.in_(HANDLED))
        .where((Ticket.category_source != "suggested") | Ticket.category_source.is_(None))
        .order_by(Ticket.received_at.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(Ticket.received_at >= since)
    examples = []
    for title, description, category, name in (await session.execute(statement)).all():
        examples.append(
            Example(redact(title or "", [name]), redact(description or "", [name]), category)
        )
    return examples
