"""The suggestion models (智能分类模型), for supervisors: per target (category, urgency, kind,
lead unit), which stored version is in use, choosing or rolling back one; and how often
operators override the category suggestion shown.
Training is a command (`python -m services intake train`): seconds of CPU do not belong in a
request. See docs/suggestions.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from intake import modelstore, overrides
from intake.schemas import ModelVersionOut, OverrideRateOut
from shared.auth import Principal, Role, require
from shared.errors import Conflict, NotFound
from shared.problems import AUTHENTICATED, problem_responses
from shared.runtime import current_time, session_dependency

router = APIRouter(
    prefix="/api/v1/classify", tags=["intake"], responses=problem_responses(*AUTHENTICATED)
)
Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
VersionName = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Target = Annotated[
    Literal["category", "urgency", "kind", "lead_unit"],
    Query(description="what the model suggests"),
]


def _out(v: modelstore.Version, target: str) -> ModelVersionOut:
    return ModelVersionOut(
        target=target, name=v.name, in_use=v.in_use, meta=v.meta, evaluation=v.evaluation
    )


@router.get("/models", response_model=list[ModelVersionOut])
async def models(who: Supervisor, target: Target = "category") -> list[ModelVersionOut]:
    """supervisor: the target's stored models, oldest first, each with its evaluation."""
    return [_out(v, target) for v in modelstore.versions(modelstore.root(target=target))]


@router.post(
    "/models/{version}/use", response_model=ModelVersionOut, responses=problem_responses(404)
)
async def use_model(
    version: VersionName, who: Supervisor, target: Target = "category"
) -> ModelVersionOut:
    """supervisor: put a stored model in use (the one before is remembered for rollback)."""
    folder = modelstore.root(target=target)
    try:
        modelstore.choose(folder, version)
    except modelstore.UnknownVersion as exc:
        raise NotFound(str(exc), field="version") from None
    return next(_out(v, target) for v in modelstore.versions(folder) if v.name == version)


@router.post("/models/rollback", response_model=ModelVersionOut, responses=problem_responses(409))
async def roll_back(who: Supervisor, target: Target = "category") -> ModelVersionOut:
    """supervisor: go back to the model used before the one in use."""
    folder = modelstore.root(target=target)
    try:
        name = modelstore.rollback(folder)
    except modelstore.UnknownVersion as exc:
        raise Conflict(str(exc), allowed_actions=["use"]) from None
    return next(_out(v, target) for v in modelstore.versions(folder) if v.name == name)


@router.get("/overrides", response_model=list[OverrideRateOut])
async def override_rates(
    session: Session,
    now: Now,
    who: Supervisor,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    model_version: Annotated[
        str | None,
        Query(max_length=64, description="only the suggestions this model version made"),
    ] = None,
) -> list[OverrideRateOut]:
    """supervisor: per category the operators chose, on the tickets received in the last
    `days` days, how often they chose another category than the suggestion they were shown
    (recorded with each ticket by the desk), most overridden first. Categories the
    classification help filled in by itself are nobody's choice and are not counted."""
    since = now - timedelta(days=days)
    rates = await overrides.as_shown(session, since=since, model_version=model_version)
    return [
        OverrideRateOut(
            category=r.category,
            tickets=r.tickets,
            prefilled=r.prefilled,
            overridden=r.overridden,
            outside_top=r.outside_top,
            rate=round(r.rate, 4),
        )
        for r in rates
    ]
