"""The responsibility catalogue (职责清单): versions, import, rules in force and the
explanation of a dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from routing import catalogue_admin
from routing.routes.deps import Admin, Centre, Now, Session, upload
from routing.routes.views import catalogue_version_out, rule_out
from routing.schemas import (
    CandidateOut,
    CatalogueIn,
    CatalogueVersionOut,
    ExplainIn,
    ExplainOut,
    RuleOut,
)
from shared.errors import InvalidInput
from shared.problems import problem_responses

router = APIRouter()


@router.get("/catalogue/versions", response_model=list[CatalogueVersionOut])
async def catalogue_versions(session: Session, now: Now, who: Centre) -> list[CatalogueVersionOut]:
    versions, in_force = await catalogue_admin.catalogue_versions(session, now)
    return [catalogue_version_out(v, in_force) for v in versions]


@router.post(
    "/catalogue/versions",
    status_code=201,
    response_model=CatalogueVersionOut,
    responses=problem_responses(413),
)
async def create_catalogue(
    body: CatalogueIn, session: Session, now: Now, who: Admin
) -> CatalogueVersionOut:
    """A new catalogue version (the complete rule set) in force from `effective_from`."""
    async with session.begin():
        v = await catalogue_admin.create_catalogue(session, body, who=who, now=now)
    return catalogue_version_out(v, None)


@router.post(
    "/catalogue/import",
    status_code=201,
    response_model=CatalogueVersionOut,
    responses=problem_responses(413),
)
async def import_catalogue(
    file: Annotated[UploadFile, File(description=".csv or .xlsx (sheet 'rules')")],
    session: Session,
    now: Now,
    who: Admin,
    effective_from: Annotated[datetime | None, Form()] = None,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> CatalogueVersionOut:
    """A catalogue version from a file; conflicting rows are refused, each named."""
    if effective_from is not None and effective_from.tzinfo is None:
        raise InvalidInput("effective_from: give a time zone, e.g. +08:00.", field="effective_from")
    filename, content = await upload(file)
    async with session.begin():
        v = await catalogue_admin.import_catalogue(
            session, filename, content, effective_from=effective_from, note=note, who=who, now=now
        )
    return catalogue_version_out(v, None)


@router.get("/catalogue/rules", response_model=list[RuleOut], responses=problem_responses(404))
async def catalogue_rules(
    session: Session, now: Now, who: Centre, version: int | None = None
) -> list[RuleOut]:
    """The rules of a version (default: the one in force now)."""
    _, rules = await catalogue_admin.rules_of(session, version, now)
    return [rule_out(r) for r in rules]


@router.post("/catalogue/explain", response_model=ExplainOut, responses=problem_responses(413))
async def explain(body: ExplainIn, session: Session, now: Now, who: Centre) -> ExplainOut:
    """Which unit would lead a ticket, by which rule and why, and every rule that applies."""
    found = await catalogue_admin.explain(
        session, category=body.category, area_code=body.area_code, text=body.text, at=body.at or now
    )
    candidates = [
        CandidateOut(
            rule=RuleOut(
                id=c.rule.id,
                category=c.rule.category,
                area=c.rule.area_code,
                keywords=list(c.rule.keywords),
                lead=c.rule.lead_unit_id,
                assist=list(c.rule.assist_unit_ids),
                mode=c.rule.mode,
                version=c.rule.version,
            ),
            specificity=list(c.specificity),
        )
        for c in found.pop("candidates")
    ]
    return ExplainOut(**found, candidates=candidates)
