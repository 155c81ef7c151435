"""Log lines carry what they are about, as text or as one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared import logs


@pytest.fixture(autouse=True)
def root_as_it_was() -> Iterator[None]:
    """configure() replaces the root logger's handlers (pytest's among them): put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    logs.configure(fmt)
    out = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    return logging.getLogger("hotline.test"), out


def test_json_lines_carry_the_ids_in_force_and_nothing_else() -> None:
    log, out = capture("json")
    with logs.context(service="routing", ticket_id="T1"), logs.context(event_id="E1"):
        log.warning("派单 %s", "done")
    log.warning("outside")
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert inside["message"] == "派单 done"
    assert (inside["service"], inside["ticket_id"], inside["event_id"]) == ("routing", "T1", "E1")
    assert "ticket_id" not in outside  # the context ended with its block


def test_text_lines_name_the_ids() -> None:
    log, out = capture("text")
    with logs.context(request_id="R9"):
        log.warning("accepted")
    log.warning("plain")
    first, second = out.getvalue().splitlines()
    assert first.endswith("accepted [request_id=R9]")
    assert second.endswith("plain")  # no empty brackets when nothing is in force
