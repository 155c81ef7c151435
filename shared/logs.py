"""Structured logs: every line carries the service, the request id, and the ticket and event it
is about, as readable text by default or one JSON object per line (`HOTLINE_LOG_FORMAT=json`)
for a log pipeline.

The ids come from context variables that the HTTP middleware (request id) and the consumer
runtime (ticket, event id and type) set, so no call site passes them. Log lines name ids, never
personal data: a citizen's phone and name stay in intake's encrypted columns, and nothing here
logs request bodies or SQL parameters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# What a log line is about; None when it is not about one.
CONTEXT_FIELDS = ("service", "request_id", "ticket_id", "event_id", "event_type", "trace_id")
_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"hotline_log_{name}", default=None) for name in CONTEXT_FIELDS
}


@contextmanager
def context(**values: str | None) -> Iterator[None]:
    """Lines logged inside carry these ids (nested contexts add to the outer one)."""
    tokens = [(_context[k], _context[k].set(v)) for k, v in values.items() if k in _context]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, str]:
    """The ids in force, for a log line or a response header."""
    return {name: value for name, var in _context.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Puts the ids in force on every record, for either format."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current()
        for name in CONTEXT_FIELDS:
            setattr(record, name, ids.get(name))
        named = " ".join(f"{k}={v}" for k, v in ids.items())
        record.ids = f" [{named}]" if named else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Configure the root logger for a process: text (readable) or json."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for chatty in ("aiokafka", "alembic", "sqlalchemy.engine", "httpx", "jieba"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
