"""Traces across the bus (OpenTelemetry API): one ticket's path — the gateway's request, intake,
routing, sla, callback, analytics — is one trace.

A span's context travels in the event envelope (`Envelope.trace_context`, W3C `traceparent`):
the outbox writes the context in force when a use case adds an event, and the consumer runtime
continues it when it applies the event. Exporting is configuration and off by default
(`HOTLINE_TRACES=none|console`); with it off the API is a no-op and envelopes carry nothing, so
nothing is needed to run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

log = logging.getLogger(__name__)
tracer = trace.get_tracer("hotline")


def carrier() -> dict[str, str] | None:
    """The context in force as W3C headers, for an envelope; None when nothing is traced."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers or None


@contextmanager
def continued(
    name: str, headers: Mapping[str, str] | None, kind: SpanKind = SpanKind.CONSUMER
) -> Iterator[Span]:
    """A span continuing the trace whose context `headers` carry (a W3C `traceparent`: an
    event's producer, or a gateway that traces its own calls); without one, a child of the span
    in force, or a new trace when there is none."""
    parent = propagate.extract(dict(headers or {}))
    with tracer.start_as_current_span(name, context=parent, kind=kind) as span:
        yield span


def trace_id() -> str | None:
    """The current trace id in hex, for log lines; None when not traced."""
    span = trace.get_current_span().get_span_context()
    return f"{span.trace_id:032x}" if span.is_valid else None


def configure(exporter: str) -> None:
    """Install an SDK tracer provider for `exporter` ("console"); "none" leaves the no-op API."""
    if exporter in ("", "none"):
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if exporter != "console":
        raise ValueError(f"HOTLINE_TRACES: unknown exporter {exporter!r} (none, console)")
    provider = TracerProvider(resource=Resource.create({"service.name": "hotline"}))
    provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("traces exported to the console")
