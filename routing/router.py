"""routing's routes: the directory and catalogue, standard replies, dispatch, the units'
worklists and actions, returns, joint determination and 吹哨报到. Thin: each route names its
roles, opens the unit of work and calls one use case; each resource's routes are a module of
`routing.routes`, put together here under /api/v1.

Roles: a unit acts only on its own assignments; operators and supervisors (the centre's
dispatchers) dispatch, re-dispatch, decide returns and record joint determinations;
supervisors manage the directory, the catalogue and reply templates; the centre reads all."""

from __future__ import annotations

from fastapi import APIRouter

from routing.routes import (
    assignments,
    catalogue,
    directory,
    returns,
    standard_replies,
    tickets,
    whistles,
)
from shared.problems import AUTHENTICATED, problem_responses

router = APIRouter(prefix="/api/v1", tags=["routing"], responses=problem_responses(*AUTHENTICATED))
# In the order the routes were always declared, so the OpenAPI document keeps its order.
for part in (directory, catalogue, standard_replies, tickets, assignments, returns, whistles):
    router.include_router(part.router)
