"""Which pages each role works in (按角色导航). Only the navigation: every action is still
checked by the service it calls, with the user's own token."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Role


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    label: str
    roles: frozenset[str]


OPERATOR = frozenset({Role.OPERATOR.value})
UNIT = frozenset({Role.UNIT.value})
# Supervisors and leaders (领导, read-only) look at the figures; leaders do nothing else.
WATCHERS = frozenset({Role.SUPERVISOR.value, Role.LEADER.value})
CENTRE_READERS = frozenset({Role.OPERATOR.value, Role.SUPERVISOR.value})

PAGES: tuple[Page, ...] = (
    Page("desk", "/web/desk", "受理台", OPERATOR),
    Page("dispatch", "/web/dispatch", "派单", OPERATOR),
    Page("callbacks", "/web/callbacks", "回访", OPERATOR),
    Page("worklist", "/web/worklist", "承办", UNIT),
    Page("dashboard", "/web/dashboard", "督查看板", WATCHERS | UNIT),
    Page("screen", "/web/screen", "数据大屏", WATCHERS),
    Page("tickets", "/web/tickets", "工单查询", CENTRE_READERS),
)
# The ticket page is reached from the lists; a unit sees the tickets it handles.
TICKET_READERS = CENTRE_READERS | UNIT


def pages_for(role: str) -> list[Page]:
    return [p for p in PAGES if role in p.roles]


def page(name: str) -> Page:
    return next(p for p in PAGES if p.name == name)


def home_of(role: str) -> str | None:
    """Where a role lands after logging in (None: no workbench for this role)."""
    pages = pages_for(role)
    return pages[0].path if pages else None
