"""The composition root: builds one FastAPI app from the named services, and its lifespan
starts and stops them in order (migrations → demo directory → consumers → bus → relays and
jobs; then the reverse)."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services import SERVICE_NAMES, demo
from shared import db, ops
from shared.bus import Bus, EmbeddedBus, RetryPolicy
from shared.clock import Clock, SystemClock
from shared.http import install_http_hygiene
from shared.problems import install_problem_handlers, problem
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import PlatformSettings, platform_settings
from web import app as web

log = logging.getLogger("services")


def load_specs(names: Sequence[str]) -> list[ServiceSpec]:
    unknown = [n for n in names if n not in SERVICE_NAMES]
    if unknown:
        raise ValueError(
            f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICE_NAMES)}"
        )
    return [importlib.import_module(f"{name}.app").build() for name in names]


def make_bus(platform: PlatformSettings, names: Sequence[str]) -> Bus:
    """Kafka when `HOTLINE_KAFKA_BOOTSTRAP` is set, else the embedded log: the only switch."""
    if platform.kafka_bootstrap:
        from shared.kafka import KafkaBus

        return KafkaBus(platform, client_id="hotline-" + "-".join(names))
    platform.data_dir.mkdir(parents=True, exist_ok=True)
    retry = RetryPolicy(platform.consumer_max_attempts, platform.consumer_backoff_seconds)
    return EmbeddedBus(platform.data_dir / "bus.db", retry)


def build_app(
    names: Sequence[str] = SERVICE_NAMES,
    *,
    platform: PlatformSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    platform = platform or platform_settings()
    clock = clock or SystemClock()
    specs = load_specs(names)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus = make_bus(platform, names)
        runtimes = {spec.name: ServiceRuntime(spec, platform, bus, clock) for spec in specs}
        app.state.runtimes, app.state.bus, app.state.clock = runtimes, bus, clock
        app.state.platform = platform  # shared.auth reads the token settings from it
        started: list[ServiceRuntime] = []
        background: asyncio.Task[None] | None = None
        try:
            for runtime in runtimes.values():
                await runtime.migrate()
            for runtime in runtimes.values():
                runtime.subscribe()
            await bus.start()
            for runtime in runtimes.values():
                await runtime.start()
                started.append(runtime)
            if platform.load_demo:  # after the start: other services learn it from events
                await demo.load_directory(runtimes)
                await demo.load_accounts(runtimes)
            if platform.load_demo and set(SERVICE_NAMES) <= set(runtimes):
                background = asyncio.create_task(demo.play_in_process(app), name="demo")
            log.info(
                "started: %s (%s)",
                ", ".join(runtimes),
                "distributed, Kafka" if platform.distributed else "embedded",
            )
            yield
        finally:
            if background:
                background.cancel()
                with suppress(asyncio.CancelledError):
                    await background
            for runtime in reversed(started):
                await runtime.stop()
            await bus.stop()
            for runtime in runtimes.values():
                await runtime.dispose()

    app = FastAPI(
        title="12345 hotline: " + ", ".join(names),
        description="接诉即办 — intake, routing, sla, callback and analytics on one ticket event bus.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    install_http_hygiene(app)  # body-size limit (413), trusted proxies (shared/http.py)
    web.install(app)  # the browser pages and the offline API docs (docs/web.md)
    ops.install(app)  # request metrics, ids and traces; /metrics and the operators' status
    for spec in specs:
        app.include_router(spec.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, object]:
        """Liveness: the process answers."""
        return {"status": "ok", "services": list(names)}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: every service's database and the bus are reachable."""
        checks: dict[str, str] = {}
        for name, runtime in request.app.state.runtimes.items():
            checks[f"{name}.database"] = await _check(db.ping(runtime.engine))
        checks["bus"] = await _check(request.app.state.bus.ping())
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failing = ", ".join(k for k, v in checks.items() if v != "ok")
        return problem(request, 503, "Not ready", f"unreachable: {failing}", checks=checks)

    return app


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, timeout=3)  # type: ignore[arg-type]
        return "ok"
    except Exception as exc:
        return f"failed: {exc.__class__.__name__}"
