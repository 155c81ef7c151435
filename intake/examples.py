"""Where training examples come from: a labelled CSV file, or intake's own tickets, for each
target a model learns (`modelstore.TARGETS`).

A CSV has the columns `title` (optional), `description` and `category` (a taxonomy path such
as 城市管理/市容环境/占道经营), or instead of `category` the levels `category_1`, `category_2`,
`category_3` (or 一级分类, 二级分类, 三级分类), joined into a path. Optional `urgency` (or 紧急程度)
and `kind` (or 诉求类型, 性质) columns label the urgency and kind models, in the API's values
or in Chinese (紧急/一般/复杂, 咨询/求助/投诉/举报/建议/表扬). An optional `name` column is the
citizen's name, scrubbed from the text (phones and card numbers always are).

From the tickets, the labels are what the handled ticket ended with, where an operator or the
channel gave it: the category (`category_source` given), the kind and the urgency
(`kind_source`, `urgency_source`; tickets older than those columns count): a suggestion
accepted without a look teaches nothing and is left out. The lead unit's label is the unit the
ticket was finally dispatched to as lead (`lead_unit_id`, which follows routing's
`ticket.dispatched`: after a return, the dispatcher's re-dispatch replaces the first unit),
for tickets a lead unit has replied to.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.classify import unit_context
from intake.models import Ticket
from shared.events.intake import TicketKind, Urgency
from shared.redaction import redact


@dataclass(frozen=True)
class Example:
    """One labelled report: its text and the label: the category an operator chose (or the
    urgency, the kind, the lead unit finally dispatched to, for those models). `context` is
    what the lead-unit model reads beside the text (`classify.unit_context`). Here rather than
    beside the model, so reading examples does not load scikit-learn."""

    title: str
    description: str
    category: str
    context: str = ""


LEVELS = (("category_1", "category_2", "category_3"), ("一级分类", "二级分类", "三级分类"))
TITLE = ("title", "留言主题", "标题")
DESCRIPTION = ("description", "留言详情", "content", "诉求件内容")
HANDLED = ("answered", "replied", "closed")
# The label columns besides the category, and the values they take (the API's or Chinese).
LABEL_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "urgency": ("urgency", "紧急程度"),
    "kind": ("kind", "诉求类型", "性质"),
}
LABEL_VALUES: Mapping[str, Mapping[str, str]] = {
    "urgency": {
        **{v: v for v in get_args(Urgency)},
        **{"紧急": "emergency", "马上办": "emergency", "一般": "ordinary", "快速办": "ordinary"},
        **{"普通": "ordinary", "复杂": "complex", "研究办": "complex"},
    },
    "kind": {
        **{v: v for v in get_args(TicketKind)},
        **{"咨询": "consultation", "求助": "help", "投诉": "complaint", "举报": "report"},
        **{"建议": "suggestion", "表扬": "praise"},
    },
}


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
    """Labelled category examples from a CSV (`labelled_csv`'s category)."""
    found = labelled_csv(file)
    if "category" not in found:
        raise BadFile("the file needs a `category` column (or category_1 …)")
    return found["category"]


def labelled_csv(file: IO[str]) -> dict[str, list[Example]]:
    """Labelled examples from a CSV, by target: the category, and the urgency and kind where
    the file has those columns. Rows without the label or text are skipped for that target,
    and texts are scrubbed (`shared.redaction.redact`) before they are kept. An urgency or
    kind the platform does not know is refused, naming it."""
    fields, rows = read_rows(file)
    columns = {
        target: column
        for target, names in LABEL_COLUMNS.items()
        if (column := _column(fields, names)) is not None
    }
    has_category = "category" in fields or any(levels[0] in fields for levels in LEVELS)
    if not has_category and not columns:
        raise BadFile("the file needs a `category` column (or category_1 …), `urgency` or `kind`")
    title, description = text_columns(fields)
    found: dict[str, list[Example]] = {"category": []} if has_category else {}
    found |= {target: [] for target in columns}
    unknown: dict[str, set[str]] = {target: set() for target in columns}
    for row in rows:
        names = [row.get("name")]
        head = redact((row.get(title) or "") if title else "", names).strip()
        body = redact(row.get(description) or "", names).strip()
        if not (head or body):
            continue
        if has_category and (category := category_of(row, fields)):
            found["category"].append(Example(head, body, category))
        for target, column in columns.items():
            given = (row.get(column) or "").strip()
            if not given:
                continue
            value = LABEL_VALUES[target].get(given) or LABEL_VALUES[target].get(given.lower())
            if value is None:
                unknown[target].add(given)
            else:
                found[target].append(Example(head, body, value))
    for target, values in unknown.items():
        if values:
            known = ", ".join(dict.fromkeys(LABEL_VALUES[target].values()))
            raise BadFile(
                f"{target}: unknown values {', '.join(sorted(values)[:5])}; use {known} "
                "(or their Chinese names)"
            )
    return found


@dataclass
class Labelled:
    """Examples from the tickets for every target, and the lead units' latest names."""

    by_target: dict[str, list[Example]] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)


async def from_tickets(
    session: AsyncSession, *, since: datetime | None = None, limit: int = 200_000
) -> list[Example]:
    """Labelled category examples from intake's handled tickets (newest first, at most
    `limit`)."""
    return (await labelled_tickets(session, since=since, limit=limit)).by_target["category"]


async def labelled_tickets(
    session: AsyncSession, *, since: datetime | None = None, limit: int = 200_000
) -> Labelled:
    """Labelled examples for every target from intake's handled tickets, newest first, at
    most `limit` tickets (see the module docstring for what each target's label is)."""
    statement = (
        select(
            Ticket.title,
            Ticket.description,
            Ticket.citizen_name,
            Ticket.category,
            Ticket.category_source,
            Ticket.kind,
            Ticket.kind_source,
            Ticket.urgency,
            Ticket.urgency_source,
            Ticket.address,
            Ticket.lead_unit_id,
            Ticket.lead_unit_name,
        )
        .where(Ticket.status.in_(HANDLED))
        .order_by(Ticket.received_at.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(Ticket.received_at >= since)
    found = Labelled({target: [] for target in ("category", "urgency", "kind", "lead_unit")})
    for row in (await session.execute(statement)).all():
        title = redact(row.title or "", [row.citizen_name])
        description = redact(row.description or "", [row.citizen_name])
        if row.category_source != "suggested":
            found.by_target["category"].append(Example(title, description, row.category))
        if row.kind_source != "suggested":
            found.by_target["kind"].append(Example(title, description, row.kind))
        if row.urgency_source != "suggested":
            found.by_target["urgency"].append(Example(title, description, row.urgency))
        if row.lead_unit_id:
            context = redact(unit_context(row.category, row.address), [row.citizen_name])
            found.by_target["lead_unit"].append(
                Example(title, description, row.lead_unit_id, context)
            )
            # Newest first: the first name seen is the unit's latest.
            found.unit_names.setdefault(row.lead_unit_id, row.lead_unit_name or row.lead_unit_id)
    return found
