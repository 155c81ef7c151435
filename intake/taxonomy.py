"""The taxonomy (分类体系) as use cases: loading the category tree, listing it (Open311's
services, channel codes), and suggesting a report's category from its text (the learned model
in use, else the keyword rules: `intake.classify`)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import classify, modelstore
from intake.config import settings
from intake.directory import current as current_directory
from intake.models import Category
from shared import metrics
from shared.errors import InvalidInput


async def load_taxonomy(session: AsyncSession, nodes: Iterable[str | Mapping[str, Any]]) -> int:
    """Load the category tree: paths ("城市管理/市容环境/占道经营") or objects with `path` and
    optional `code` (the Open311 service code), `keywords` and `description`. Missing parents
    are added. Returns how many nodes were loaded."""
    given: dict[str, Mapping[str, Any]] = {}
    for node in nodes:
        item: Mapping[str, Any] = {"path": node} if isinstance(node, str) else node
        path = "/".join(part.strip() for part in str(item["path"]).split("/") if part.strip())
        if not path:
            raise InvalidInput("taxonomy: an empty category path.", field="taxonomy")
        for parent in classify.path_and_above(path)[:-1]:
            given.setdefault(parent, {"path": parent})
        given[path] = {**item, "path": path}
    for path, item in given.items():
        parts = path.split("/")
        # ORM merges, not a bulk statement: the directory's cache is stamped by the flush.
        await session.merge(
            Category(
                path=path,
                code=str(item.get("code") or service_code(path)),
                name=parts[-1],
                parent_path="/".join(parts[:-1]) or None,
                depth=len(parts),
                keywords="|".join(item.get("keywords", [])),
                description=str(item.get("description", "")),
            )
        )
    return len(given)


def service_code(path: str) -> str:
    """A short stable code for a category (Open311 `service_code`)."""
    return f"S{zlib.crc32(path.encode()):08X}"


async def categories(session: AsyncSession) -> Sequence[Category]:
    """Every node of the tree, by path."""
    return (await session.scalars(select(Category).order_by(Category.path))).all()


async def taxonomy(session: AsyncSession) -> classify.Taxonomy:
    """The tree with its keywords, as the classification help reads it (cached)."""
    return (await current_directory(session)).taxonomy


async def paths_by_code(session: AsyncSession) -> Mapping[str, str]:
    """Each category's path by its code (Open311 `service_code`), as a channel names it
    (cached: every channel report reads it)."""
    return (await current_directory(session)).paths_by_code


async def suggest(
    session: AsyncSession,
    title: str,
    description: str,
    *,
    category: str | None = None,
    address: str | None = None,
) -> classify.Suggestion:
    """智能分类: the category, urgency and kind the text suggests, with the reasons, and the
    lead units it suggests; the learned models in use (`modelstore.all_in_use`) answer when
    sure enough (INTAKE_SUGGESTION_MIN_CONFIDENCE), the rules when unsure or absent."""
    suggestion = classify.suggest(
        title,
        description,
        await taxonomy(session),
        modelstore.all_in_use(),
        min_confidence=settings().suggestion_min_confidence,
        category=category,
        address=address,
    )
    metrics.SUGGESTIONS.labels("shown" if suggestion.category else "none").inc()
    return suggestion
