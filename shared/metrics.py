"""The platform's metrics (Prometheus text format, `prometheus-client`), one set per process.

Names follow Prometheus conventions: a `hotline_` prefix, base units (seconds), `_total` for
counters. In the embedded run one process serves all five services, so series carry the
service or consumer name as a label. Counters and histograms move where the work happens;
gauges that need a database read (lag, backlog, due timers) are read when scraped
(`shared.ops.refresh_gauges`), so nothing polls when nobody looks.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "render"]

# --- HTTP ---------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "hotline_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "hotline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- consumers (inbox side of the bus) -----------------------------------------------------
EVENTS = Counter(
    "hotline_consumer_events_total",
    "Events a consumer handled: applied, redelivered (already applied, dropped by the inbox).",
    ["consumer", "outcome"],
)
FAILURES = Counter(
    "hotline_consumer_failures_total",
    "Failed attempts to apply an event or a batch (each one is retried or dead-lettered).",
    ["consumer"],
)
RETRIES = Counter(
    "hotline_consumer_retries_total",
    "Events applied again alone after a failure (blocking retry with backoff).",
    ["consumer"],
)
DEAD_LETTERS = Counter(
    "hotline_consumer_dead_letters_total",
    "Events a consumer gave up on and dead-lettered, with their error.",
    ["consumer"],
)
BATCH_SIZE = Histogram(
    "hotline_consumer_batch_size",
    "Events per batch a consumer applied in one transaction.",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000),
)
# consumer → (when, repr of the error) of its last failed attempt, for the operators' status page.
LAST_ERRORS: dict[str, tuple[datetime, str]] = {}
LAG_EVENTS = Gauge(
    "hotline_consumer_lag_events",
    "Events on the bus after the consumer's committed position (read when scraped).",
    ["consumer"],
)
LAG_SECONDS = Gauge(
    "hotline_consumer_lag_seconds",
    "Age of the oldest event the consumer has not handled yet; 0 when caught up.",
    ["consumer"],
)
LOG_REGRESSIONS = Gauge(
    "hotline_bus_log_regressions",
    "Partitions whose log ends before the consumer's committed offset: the broker lost its "
    "log (events published before are gone). Must be 0.",
    ["consumer"],
)

# --- outboxes -----------------------------------------------------------------------------
OUTBOX_PUBLISHED = Counter(
    "hotline_outbox_published_total", "Events an outbox relay published.", ["service"]
)
OUTBOX_BACKLOG = Gauge(
    "hotline_outbox_backlog_events", "Outbox rows not published yet.", ["service"]
)
OUTBOX_AGE = Gauge(
    "hotline_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row; 0 when empty.",
    ["service"],
)

# --- what the services do -------------------------------------------------------------------
TICKETS_ACCEPTED = Counter(
    "hotline_intake_tickets_accepted_total",
    "Reports intake accepted as new tickets (受理), by channel.",
    ["channel"],
)
SUGGESTIONS = Counter(
    "hotline_intake_suggestions_total",
    "Category suggestions: `shown` (or `none`) to an operator asking; on each new ticket, "
    "`prefilled` from the suggestion or `given` by the operator or channel. Overrides by "
    "category: GET /api/v1/classify/overrides.",
    ["outcome"],
)
TIMERS_DUE = Gauge(
    "hotline_sla_timers_due", "Deadlines and reminders past their time and not fired yet."
)
TIMERS_FIRED = Counter(
    "hotline_sla_timers_fired_total", "Deadlines (breach) and reminders fired.", ["kind"]
)
TIMER_LATENESS = Histogram(
    "hotline_sla_timer_lateness_seconds",
    "How late a timer fired after its due time.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
CALLBACKS_DUE = Gauge("hotline_callbacks_due", "Callbacks (回访) waiting to be made.")
CALLBACKS_OVERDUE = Gauge(
    "hotline_callbacks_overdue", "Callbacks waiting longer than the callback window."
)
LOGINS_REFUSED = Counter(
    "hotline_accounts_logins_refused_total",
    "Password logins refused: `invalid` (wrong name or password, or a disabled account) or "
    "`locked` (the name is locked after repeated failures, 登录锁定).",
    ["reason"],
)
LOGIN_LOCKOUTS = Counter(
    "hotline_accounts_login_lockouts_total",
    "Account names locked after repeated failed password logins (each lock, growing).",
)


def dead_lettered(consumer: str) -> int:
    """How many events `consumer` dead-lettered since this process started."""
    value = REGISTRY.get_sample_value("hotline_consumer_dead_letters_total", {"consumer": consumer})
    return int(value or 0)


def render() -> bytes:
    """The process's metrics in the Prometheus text format."""
    return generate_latest()
