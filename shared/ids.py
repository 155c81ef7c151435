"""Identifiers in time order (UUID version 7, RFC 9562), for keys written at the rate events are.

An event's id is the key of a unique index in every outbox and inbox that holds it: millions of
rows once a city's tickets accumulate. A random id (version 4) lands each insert on a random page
of that index, which is then read from disk; ids that begin with the time they were made all go
to the index's newest pages, which stay in memory however large it grows (docs/performance.md).
The rest of the id is random, so ids made in the same millisecond by different processes do not
collide and nothing can be guessed from one about another.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from uuid import UUID

_MS_BITS = 48
_RAND_A_BITS = 12
_RAND_B_BITS = 62


def time_ordered_uuid(at: datetime | None = None, random: int | None = None) -> UUID:
    """A version 7 UUID: the Unix time in milliseconds (now, or `at`), the version, 12 random
    bits, the RFC variant, 62 random bits. A loader writing the past gives `at` and, to be
    repeatable, its own 80 `random` bits."""
    ms = time.time_ns() // 1_000_000 if at is None else int(at.timestamp() * 1000)
    if random is None:
        random = int.from_bytes(os.urandom(10), "big")
    rand_a = random >> (80 - _RAND_A_BITS)
    rand_b = random & ((1 << _RAND_B_BITS) - 1)
    value = (ms & ((1 << _MS_BITS) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return UUID(int=value)
