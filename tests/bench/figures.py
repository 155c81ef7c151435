"""A figure beside its ceiling, for the real-HTTP benches' rows.

`ratio` is value / ceiling for every unit: below 1 for a rate under its ceiling, above 1 for
a latency or a memory above it. A ceiling's own row has no ceiling and no ratio.
"""

from __future__ import annotations

from typing import NamedTuple


class Figure(NamedTuple):
    name: str
    value: float
    unit: str
    ceiling: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.ceiling if self.ceiling else None

    def line(self) -> str:
        ceiling = "-" if self.ceiling is None else f"{self.ceiling:,.1f}"
        ratio = "-" if self.ratio is None else f"{self.ratio:.3f}"
        text = f"  {self.name:<50} {self.value:>10,.1f} {self.unit:<10} {ceiling:>10} {ratio:>8}"
        return f"{text}  {self.note}" if self.note else text


HEADER = f"  {'figure':<50} {'value':>10} {'':<10} {'ceiling':>10} {'ratio':>8}"
