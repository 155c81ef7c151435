"""Every event type has a consumer, and docs/events.md says who produces and consumes each.

The table rows of docs/events.md are written from the registry and the handlers:
    for (type_, version), model in sorted(registered().items()): one row with the producing
    module, the services whose HANDLERS register `model`, and the model's docstring.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from services.bootstrap import SERVICE_NAMES
from shared.events import registered

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
ROW = re.compile(r"^\| `([a-z_.]+)` v(\d+) \| (\w+) \| ([a-z, —]+) \|", re.MULTILINE)


def consumers() -> dict[tuple[str, int], list[str]]:
    found: dict[tuple[str, int], list[str]] = {}
    for service in SERVICE_NAMES:
        for model in importlib.import_module(f"{service}.handlers").HANDLERS:
            found.setdefault((model.event_type, model.version), []).append(service)
    return found


def test_every_event_type_has_a_consumer_besides_the_audit_trail() -> None:
    from analytics.handlers import KEPT_ONLY

    acted_on = {
        (model.event_type, model.version)
        for service in SERVICE_NAMES
        for model in importlib.import_module(f"{service}.handlers").HANDLERS
        if not (service == "analytics" and model in KEPT_ONLY)
    }
    unread = sorted(key for key in registered() if key not in acted_on)
    assert unread == [], f"produced but acted on by nobody: {unread}"


def test_the_event_table_matches_the_code() -> None:
    rows = {
        (t, int(v)): (producer, [c.strip() for c in who.split(",")])
        for t, v, producer, who in ROW.findall(DOC.read_text("utf-8"))
    }
    read = consumers()
    expected = {
        key: (model.__module__.rsplit(".", 1)[-1], read.get(key, ["—"]))
        for key, model in registered().items()
    }
    assert rows == expected
