"""What the operations staff see (运维): the `/metrics` endpoint, the status of every consumer
and outbox (`GET /api/v1/ops/status`), and the HTTP middleware that measures each request,
names it in the logs (request id) and traces it.

The gauges that need a read (consumer lag, outbox backlog, each service's own counts such as
sla's due timers) are refreshed when `/metrics` or the status is asked for, so nothing polls
when nobody looks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from shared import logs, metrics, tracing
from shared.auth import Principal, Role, require
from shared.problems import problem_responses

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class ObservedRequests:
    """ASGI middleware: a request id (the caller's `X-Request-ID` or a new one) on the logs and
    the response, a server span, and the request counted and timed by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        method = scope.get("method", "GET")
        incoming = {"traceparent": headers.get(b"traceparent", b"").decode("latin-1")}
        with (
            tracing.continued(
                f"{method} {scope.get('path', '')}",
                incoming if incoming["traceparent"] else None,
                SpanKind.SERVER,
            ),
            logs.context(request_id=request_id, trace_id=tracing.trace_id()),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                metrics.HTTP_REQUESTS.labels(method, template, str(status)).inc()
                metrics.HTTP_DURATION.labels(method, template).observe(
                    time.perf_counter() - started
                )


class ConsumerStatus(BaseModel):
    consumer: str
    behind: int  # events after its committed position
    behind_seconds: float  # since it was last caught up
    log_regressions: int  # partitions whose log ends before its committed offset: must be 0
    dead_lettered: int  # since this process started
    last_error: str | None
    last_error_at: datetime | None


class OutboxStatus(BaseModel):
    service: str
    backlog: int
    oldest_seconds: float


class OpsStatus(BaseModel):
    """The operators' view of the pipeline (运维状态)."""

    healthy: bool  # no log regression, nothing stuck: see `problems`
    problems: list[str]
    consumers: list[ConsumerStatus]
    outboxes: list[OutboxStatus]


# An outbox row older than this, or a consumer behind this long, is named as a problem.
STUCK_SECONDS = 60.0


async def refresh(app: FastAPI) -> OpsStatus:
    """Read lag, backlog and each service's own gauges; set the gauges; the operators' view."""
    problems: list[str] = []
    outboxes = []
    for name, runtime in app.state.runtimes.items():
        backlog, oldest = await runtime.outbox_backlog()
        metrics.OUTBOX_BACKLOG.labels(name).set(backlog)
        metrics.OUTBOX_AGE.labels(name).set(oldest)
        outboxes.append(OutboxStatus(service=name, backlog=backlog, oldest_seconds=oldest))
        if oldest > STUCK_SECONDS:
            problems.append(f"{name}'s outbox has held an event for {oldest:.0f} s")
        await runtime.refresh_gauges()
    consumers = []
    bus = app.state.bus
    for consumer in bus.consumers():
        lag = await bus.lag(consumer)
        metrics.LAG_EVENTS.labels(consumer).set(lag.behind)
        metrics.LAG_SECONDS.labels(consumer).set(lag.behind_seconds)
        metrics.LOG_REGRESSIONS.labels(consumer).set(lag.regressions)
        if lag.regressions:
            problems.append(
                f"{consumer}: the bus log ends before its committed offset on "
                f"{lag.regressions} partition(s): acknowledged events were lost by the broker"
            )
        if lag.behind_seconds > STUCK_SECONDS:
            problems.append(f"{consumer} has been behind for {lag.behind_seconds:.0f} s")
        when, error = metrics.LAST_ERRORS.get(consumer, (None, None))
        consumers.append(
            ConsumerStatus(
                consumer=consumer,
                behind=lag.behind,
                behind_seconds=round(lag.behind_seconds, 3),
                log_regressions=lag.regressions,
                dead_lettered=metrics.dead_lettered(consumer),
                last_error=error,
                last_error_at=when,
            )
        )
    return OpsStatus(
        healthy=not problems, problems=problems, consumers=consumers, outboxes=outboxes
    )


router = APIRouter(tags=["operations"])
Watcher = Depends(require(Role.SUPERVISOR, Role.SERVICE))


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus scrape endpoint (text format); open to the scraper on the internal network,
    carries counts and timings only."""
    await refresh(request.app)
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)


@router.get("/api/v1/ops/status", response_model=OpsStatus, responses=problem_responses(401, 403))
async def ops_status(request: Request, who: Principal = Watcher) -> OpsStatus:
    """supervisor, service: each consumer's lag and last error, each outbox's backlog, dead
    letters, and what looks wrong."""
    return await refresh(request.app)


def install(app: FastAPI) -> None:
    """Measure and trace every request, and serve `/metrics` and the status."""
    app.add_middleware(ObservedRequests)  # type: ignore[arg-type]
    app.include_router(router)
