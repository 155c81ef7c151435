"""Seeing inside the running platform: the metrics move as a ticket flows, the operators' status
shows every consumer and outbox, every response names its request, log lines carry the ids
they are about and no personal data, and one ticket's path across the services is one trace."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import logs
from tests.slice import Clients, assignments_of, post_complaint, run_vertical_slice
from tests.support import COMPLAINT, OPERATOR, SUPERVISOR, eventually

SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def traced() -> Iterator[None]:
    """An SDK tracer provider recording in memory (the process's first; the API is a no-op
    until one is installed, as in production with exporting off)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)
    yield


def series(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_metrics_move_as_a_ticket_flows(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def dispatched() -> list[dict[str, Any]] | None:
        found = await assignments_of(c, ticket_id)
        return found or None

    await eventually(dispatched, what="dispatch")
    after = await scrape(client)
    posted = {"method": "POST", "route": "/api/v1/tickets", "status": "201"}
    assert series(after, "hotline_http_requests_total", **posted) == (
        series(before, "hotline_http_requests_total", **posted) + 1
    )
    for consumer in ("routing", "sla", "analytics"):
        key = {"consumer": consumer, "outcome": "applied"}
        assert series(after, "hotline_consumer_events_total", **key) > series(
            before, "hotline_consumer_events_total", **key
        ), consumer
    assert series(after, "hotline_outbox_published_total", service="intake") > series(
        before, "hotline_outbox_published_total", service="intake"
    )
    phone = {"channel": "phone"}
    assert series(after, "hotline_intake_tickets_accepted_total", **phone) == (
        series(before, "hotline_intake_tickets_accepted_total", **phone) + 1
    )
    given = {"outcome": "given"}  # the complaint named its category
    assert series(after, "hotline_intake_suggestions_total", **given) == (
        series(before, "hotline_intake_suggestions_total", **given) + 1
    )
    assert 'hotline_consumer_lag_events{consumer="routing"}' in after
    assert "hotline_sla_timers_due" in after and "hotline_callbacks_due" in after


async def test_the_operators_status_shows_consumers_and_outboxes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    denied = await client.get("/api/v1/ops/status", headers=OPERATOR)
    assert denied.status_code == 403
    r = await client.get("/api/v1/ops/status", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    status = r.json()
    consumers = {c["consumer"] for c in status["consumers"]}
    assert {"intake", "routing", "sla", "callback", "analytics"} <= consumers
    assert consumers == set(app.state.bus.consumers())
    assert {o["service"] for o in status["outboxes"]} == set(app.state.runtimes)
    assert status["healthy"] is True and status["problems"] == []


async def test_responses_name_their_request_and_logs_carry_ids_not_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for handler in (caplog.handler, *logging.getLogger().handlers):
        handler.addFilter(logs.ContextFilter())
    caplog.set_level(logging.DEBUG)
    r = await client.get("/healthz", headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32

    c = Clients(client, client, client, client, client)
    ticket_id = (await run_vertical_slice(c))["id"]
    about_ticket = [r for r in caplog.records if getattr(r, "ticket_id", None) == ticket_id]
    assert about_ticket, "no log line names the ticket it is about"
    assert all(getattr(r, "event_id", None) for r in about_ticket)
    citizen = COMPLAINT["citizen"]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for personal in (citizen["phone"], citizen["phone"].replace("-", ""), citizen["name"]):
        assert personal not in everything


async def test_one_ticket_is_one_trace_across_the_services(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    SPANS.clear()
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def dispatched() -> list[dict[str, Any]] | None:
        found = await assignments_of(c, ticket_id)
        return found or None

    await eventually(dispatched, what="dispatch")

    expected = {  # intake's request → routing, sla, analytics receive it → routing dispatches
        "routing: ticket.received",  # → sla arms the clock: one trace id all the way
        "sla: ticket.received",
        "analytics: ticket.received",
        "sla: ticket.dispatched",
    }

    def ours() -> list[Any]:
        spans = SPANS.get_finished_spans()
        return [
            s
            for s in spans
            if s.instrumentation_scope and s.instrumentation_scope.name == "hotline"
        ]

    post = next(s for s in ours() if s.name == "POST /api/v1/tickets")

    async def traced_through() -> set[str] | None:
        names = {s.name for s in ours() if s.context.trace_id == post.context.trace_id}
        return names if expected <= names else None

    await eventually(traced_through, what="the consumers' spans in the request's trace")
