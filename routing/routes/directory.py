"""Areas and units (the directory, 目录): CRUD, bulk import and directory versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from routing import directory
from routing.routes.deps import Admin, AreaReader, Centre, Now, Session, upload
from routing.routes.views import area_map, area_out, directory_version_out, unit_out
from routing.schemas import (
    AreaIn,
    AreaMap,
    AreaOut,
    AreaPatch,
    DirectoryVersionOut,
    ImportOut,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from shared.events.routing import AreaLevel
from shared.problems import problem_responses

router = APIRouter()
# A change to an area or unit: unknown (404), refused in its state (409).
CHANGE = problem_responses(404, 409, 413)


@router.get("/areas", response_model=list[AreaOut])
async def list_areas(session: Session, who: AreaReader, parent: str | None = None) -> list[AreaOut]:
    """The administrative hierarchy: city › district › street/township › community › grid."""
    return [area_out(a) for a in await directory.list_areas(session, parent)]


@router.post(
    "/areas", status_code=201, response_model=AreaOut, responses=problem_responses(409, 413)
)
async def create_area(body: AreaIn, session: Session, now: Now, who: Admin) -> AreaOut:
    async with session.begin():
        area = await directory.create_area(session, body, who=who, now=now)
    return area_out(area)


@router.get("/areas/{code}", response_model=AreaOut, responses=problem_responses(404))
async def get_area(code: str, session: Session, who: AreaReader) -> AreaOut:
    return area_out(await directory.get_area(session, code))


@router.patch("/areas/{code}", response_model=AreaOut, responses=CHANGE)
async def update_area(
    code: str, body: AreaPatch, session: Session, now: Now, who: Admin
) -> AreaOut:
    async with session.begin():
        area = await directory.update_area(session, code, body, who=who, now=now)
    return area_out(area)


@router.delete("/areas/{code}", response_model=AreaOut, responses=problem_responses(404, 409))
async def deactivate_area(code: str, session: Session, now: Now, who: Admin) -> AreaOut:
    """Deactivates an area with no active sub-areas or units (old tickets still name it)."""
    async with session.begin():
        area = await directory.deactivate_area(session, code, who=who, now=now)
    return area_out(area)


@router.get("/units", response_model=list[UnitOut])
async def units(session: Session, who: Centre, area: str | None = None) -> list[UnitOut]:
    """Handling units (承办单位), each tied to its area."""
    return [unit_out(u) for u in await directory.list_units(session, area)]


@router.post(
    "/units", status_code=201, response_model=UnitOut, responses=problem_responses(409, 413)
)
async def create_unit(body: UnitIn, session: Session, now: Now, who: Admin) -> UnitOut:
    async with session.begin():
        unit = await directory.create_unit(session, body, who=who, now=now)
    return unit_out(unit)


@router.get("/units/{unit_id}", response_model=UnitOut, responses=problem_responses(404))
async def get_unit(unit_id: str, session: Session, who: Centre) -> UnitOut:
    return unit_out(await directory.get_unit(session, unit_id))


@router.patch("/units/{unit_id}", response_model=UnitOut, responses=CHANGE)
async def update_unit(
    unit_id: str, body: UnitPatch, session: Session, now: Now, who: Admin
) -> UnitOut:
    async with session.begin():
        unit = await directory.update_unit(session, unit_id, body, who=who, now=now)
    return unit_out(unit)


@router.delete("/units/{unit_id}", response_model=UnitOut, responses=problem_responses(404, 409))
async def deactivate_unit(unit_id: str, session: Session, now: Now, who: Admin) -> UnitOut:
    """Deactivates a unit no rule in force names and that holds no open assignment."""
    async with session.begin():
        unit = await directory.deactivate_unit(session, unit_id, who=who, now=now)
    return unit_out(unit)


@router.post(
    "/directory/import",
    status_code=201,
    response_model=ImportOut,
    responses=problem_responses(409, 413),
)
async def import_directory(
    file: Annotated[
        UploadFile, File(description=".csv (one table) or .xlsx (sheets areas, units)")
    ],
    session: Session,
    now: Now,
    who: Admin,
    table: Annotated[Literal["areas", "units"], Form()] = "areas",
) -> ImportOut:
    """Bulk import of areas and units: all rows or, on any problem, none."""
    filename, content = await upload(file)
    async with session.begin():
        v = await directory.import_directory(
            session, filename, content, table=table, who=who, now=now
        )
    return ImportOut(version=v.version, areas=v.areas, units=v.units)


@router.post("/directory/announce", status_code=202, response_model=dict[str, int])
async def announce_directory(session: Session, now: Now, who: Admin) -> dict[str, int]:
    """Announce the whole directory again (`directory.area_changed` and `directory.unit_changed`
    for every row) after an upgrade or for a service that joined later; nothing changes."""
    async with session.begin():
        areas, units = await directory.announce_directory(session, now)
    return {"areas": areas, "units": units}


@router.get(
    "/directory/map",
    response_model=AreaMap,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def directory_map(
    session: Session,
    who: AreaReader,
    level: Annotated[list[AreaLevel] | None, Query(description="only these levels")] = None,
) -> Response:
    """The active areas' boundaries as GeoJSON (RFC 7946) for maps drawn without tiles; areas
    without a boundary are left out."""
    areas = [
        a
        for a in await directory.list_areas(session)
        if a.active and (not level or a.level in level)
    ]
    return Response(area_map(areas).model_dump_json(), media_type="application/geo+json")


@router.get("/directory/versions", response_model=list[DirectoryVersionOut])
async def directory_versions(session: Session, who: Centre) -> list[DirectoryVersionOut]:
    return [directory_version_out(v) for v in await directory.directory_versions(session)]
