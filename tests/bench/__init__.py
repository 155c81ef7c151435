"""`make bench`: every `tests/bench/bench_*.py` module's `rows()`, printed as a table.

Each figure comes with a ratio against a baseline measured in the same run on the same
machine, so the ratios mean something anywhere; no figure is asserted.
"""

from typing import NamedTuple


class Row(NamedTuple):
    name: str
    rate: float
    unit: str
    ratio: float  # against the baseline row above it (1.0 for a baseline)
