"""Contract: a JSON sample per event type and version. Consumers in other teams (and older
versions of ours) rely on these shapes; a change that breaks a sample needs a new version."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from shared.events import Envelope, registered

SAMPLES = Path(__file__).parent / "samples"
PRODUCED = {key for key in registered() if not key[0].startswith("test.")}


def test_every_event_type_and_version_has_a_sample() -> None:
    have = {
        (p.name.rsplit(".v", 1)[0], int(p.name.rsplit(".v", 1)[1].removesuffix(".json")))
        for p in SAMPLES.glob("*.json")
    }
    assert PRODUCED == have


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_sample_parses_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text("utf-8"))
    envelope = Envelope.model_validate(raw)
    payload = envelope.data()
    assert (envelope.type, envelope.version) == (payload.event_type, payload.version)
    assert payload.model_dump(mode="json").keys() == raw["payload"].keys()
    for key, value in raw["payload"].items():
        dumped = payload.model_dump(mode="json")[key]
        if isinstance(getattr(payload, key), datetime):
            assert datetime.fromisoformat(dumped) == datetime.fromisoformat(value)
        else:
            assert dumped == value


def test_events_carry_no_personal_data() -> None:
    forbidden = {"phone", "citizen_phone", "name", "citizen_name", "openid", "email"}
    for (type_, version), model in registered().items():
        assert not forbidden & set(model.model_fields), f"{type_} v{version} carries personal data"
