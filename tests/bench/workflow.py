"""One ticket's whole life through the public HTTP APIs, as each role would drive it: the
gateway posts it, routing dispatches it on its own (the ticket's `GET /api/v1/routing/tickets/
{id}`, read as an operator, shows the assignments), each unit signs, contacts and replies
(assisting units before the lead, which closes the handling), the callback operator finds the
callback task (`GET /api/v1/callbacks?ticket_id=…`) and records the citizen's verdict, and the
ticket reads `closed` at intake. The calls and tokens are those of tests/slice.py and
services/demo.py.

What happens between the calls (dispatch, callback task, closing) travels over the bus, so each
wait is a poll with a growing pause (`POLL_FIRST` doubling up to `POLL_MAX`), bounded by the
lifecycle's deadline: a ticket that does not reach the next step in time is reported with the
step it was waiting for, never waited on forever.

Used by bench_lifecycle (many lifecycles at once) and bulkload (the template tickets whose rows
the bulk loader copies).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from shared.auth import Role
from tests.support import GATEWAY, OPERATOR, bearer

T = TypeVar("T")
POLL_FIRST = 0.05
POLL_MAX = 0.5
REPLY = {"outcome": "solved", "explanation": "已现场核实并处理完毕，已电话告知诉求人处理结果。"}
VERDICT = {
    "contacted_by_unit": True,
    "solved": "solved",
    "satisfaction": "satisfied",
    "comment": "已经处理好了，谢谢",
}


class Stuck(Exception):
    """The ticket did not reach `step` before the lifecycle's deadline, or a call failed."""

    def __init__(self, step: str, detail: str = "") -> None:
        super().__init__(f"{step}: {detail}" if detail else step)
        self.step = step


@dataclass(frozen=True)
class Urls:
    """Where each service answers: the same URL for all five when embedded."""

    intake: str
    routing: str
    callback: str

    @classmethod
    def same(cls, url: str) -> Urls:
        return cls(url, url, url)


@dataclass
class Lifecycle:
    """One ticket's run: its id, how long it took, the HTTP requests it made."""

    ticket_id: str = ""
    seconds: float = 0.0
    requests: int = 0
    step_seconds: dict[str, float] = field(default_factory=dict)


class Workflow:
    """The roles' calls on one shared connection pool."""

    def __init__(self, client: httpx.AsyncClient, urls: Urls, *, timeout: float = 60.0) -> None:
        self.client, self.urls, self.timeout = client, urls, timeout

    async def _call(
        self,
        run: Lifecycle,
        step: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        run.requests += 1
        try:
            response = await self.client.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise Stuck(step, repr(exc)) from exc
        if response.status_code not in ok:
            raise Stuck(step, f"{method} {url} → {response.status_code} {response.text[:200]}")
        return response

    async def _until(
        self, run: Lifecycle, step: str, deadline: float, probe: Callable[[], Awaitable[T | None]]
    ) -> T:
        pause = POLL_FIRST
        while True:
            found = await probe()
            if found is not None:
                return found
            if time.monotonic() + pause > deadline:
                raise Stuck(step, f"not reached within {self.timeout:.0f} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, POLL_MAX)

    async def post(self, run: Lifecycle, body: dict[str, Any]) -> str:
        url = f"{self.urls.intake}/api/v1/tickets"
        response = await self._call(run, "post", "POST", url, GATEWAY, body, ok=(201,))
        return str(response.json()["id"])

    async def dispatched(self, run: Lifecycle, deadline: float) -> list[dict[str, Any]]:
        """The open assignments, once routing dispatched the ticket. A ticket routing put in
        the dispatcher's queue (no catalogue rule places it) is Stuck at once: no dispatcher
        plays along here."""
        url = f"{self.urls.routing}/api/v1/routing/tickets/{run.ticket_id}"

        async def probe() -> list[dict[str, Any]] | None:
            response = await self._call(run, "dispatch", "GET", url, OPERATOR, ok=(200, 404))
            if response.status_code == 404:
                return None  # routing has not had the event yet
            routed = response.json()
            if routed["status"] == "queued":
                raise Stuck("dispatch", f"queued: {routed['queued_reason']}")
            found: list[dict[str, Any]] = routed["assignments"]
            return found if any(a["role"] == "lead" for a in found) else None

        return await self._until(run, "dispatch", deadline, probe)

    async def handle(self, run: Lifecycle, assignments: list[dict[str, Any]]) -> None:
        """Assisting units first: the lead's reply closes the handling only after theirs."""
        for assignment in sorted(assignments, key=lambda a: a["role"] == "lead"):
            unit = bearer(Role.UNIT, assignment["unit_id"])
            base = f"{self.urls.routing}/api/v1/assignments/{assignment['id']}"
            for step in ("sign", "contact"):
                await self._call(run, step, "POST", f"{base}/{step}", unit)
            await self._call(run, "reply", "POST", f"{base}/reply", unit, REPLY)

    async def call_back(self, run: Lifecycle, deadline: float) -> None:
        url = f"{self.urls.callback}/api/v1/callbacks"

        async def probe() -> str | None:
            response = await self.client.get(
                url, params={"ticket_id": run.ticket_id}, headers=OPERATOR
            )
            run.requests += 1
            if response.status_code != 200:
                raise Stuck("callback", f"GET {url} → {response.status_code}")
            due = [t for t in response.json() if t["status"] == "due"]
            return str(due[0]["id"]) if due else None

        task = await self._until(run, "callback", deadline, probe)
        await self._call(run, "verdict", "POST", f"{url}/{task}/result", OPERATOR, VERDICT)

    async def closed(self, run: Lifecycle, deadline: float) -> None:
        url = f"{self.urls.intake}/api/v1/tickets/{run.ticket_id}"

        async def probe() -> bool | None:
            response = await self._call(run, "closed", "GET", url, OPERATOR)
            return True if response.json()["status"] == "closed" else None

        await self._until(run, "closed", deadline, probe)

    async def lifecycle(self, body: dict[str, Any], run: Lifecycle | None = None) -> Lifecycle:
        """post → dispatch → sign → contact → reply → callback verdict → closed. Raises Stuck
        (with the run so far in `run`, when given) if a step fails or is not reached in time."""
        run = run if run is not None else Lifecycle()
        start = time.monotonic()
        deadline = start + self.timeout
        mark = start

        def lap(step: str) -> None:
            nonlocal mark
            now = time.monotonic()
            run.step_seconds[step] = now - mark
            mark = now

        run.ticket_id = await self.post(run, body)
        lap("post")
        assignments = await self.dispatched(run, deadline)
        lap("dispatch")
        await self.handle(run, assignments)
        lap("handle")
        await self.call_back(run, deadline)
        lap("callback")
        await self.closed(run, deadline)
        lap("closed")
        run.seconds = time.monotonic() - start
        return run
