"""Event ids in time order (shared/ids.py): RFC 9562 version 7, ordered by the millisecond they
were made, unique within one, and placed at a given past instant for a loader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from shared.events import Envelope
from shared.ids import time_ordered_uuid


def test_ids_are_version_7_ordered_by_their_time_and_unique() -> None:
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    ids = [time_ordered_uuid(start + timedelta(milliseconds=n // 50)) for n in range(5000)]
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {"specified in RFC 4122"}
    assert len(set(ids)) == len(ids)
    # Ordered across milliseconds; within one, in any order (the rest is random).
    by_ms = [ids[n : n + 50] for n in range(0, 5000, 50)]
    assert all(max(a) < min(b) for a, b in pairwise(by_ms))
    assert int(ids[0].hex[:12], 16) == int(start.timestamp() * 1000)


def test_a_given_instant_and_random_bits_make_the_same_id() -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert time_ordered_uuid(at, 12345) == time_ordered_uuid(at, 12345)
    assert time_ordered_uuid(at, 12345) != time_ordered_uuid(at, 12346)


def test_new_events_get_ids_in_the_order_they_were_made() -> None:
    made = [
        Envelope(
            type="ticket.received",
            occurred_at=datetime(2026, 11, 30, tzinfo=UTC),
            ticket_id="T1",
            producer="intake",
            payload={},
        ).event_id
        for _ in range(3)
    ]
    assert all(i.version == 7 for i in made)
    assert made[0].hex[:12] <= made[1].hex[:12] <= made[2].hex[:12]
