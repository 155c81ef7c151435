"""`python -m tests.bench [name…]`: run the named benchmark modules (`accept` runs
`tests/bench/bench_accept.py`), all of them by default, and print their rows.

A module's `rows()` either returns its rows when done (a coroutine of a list), or yields them
as it measures (an async generator), which the long real-HTTP benches do so that each figure
shows as soon as it is known. A row is a `Row` (rate, unit, ratio to a baseline), a `Figure`
(value, unit, ceiling, ratio) or a line of text.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import tests.bench
from tests.bench import Row
from tests.bench.figures import HEADER, Figure


def available() -> list[str]:
    return [
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(tests.bench.__path__)
        if m.name.startswith("bench_")
    ]


def checkout() -> str:
    """The code measured: others may commit (or leave edits) while a long bench runs."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {described.stdout.strip()}"


def load_average() -> str:
    """On a shared machine the load others put on it is the noise in every figure."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def line(row: object) -> str:
    if isinstance(row, Figure):
        return row.line()
    if isinstance(row, Row):
        return f"  {row.name:<44} {row.rate:>10.0f} {row.unit:<10} ratio {row.ratio:6.2f}"
    return f"  {row}"


async def main(names: list[str]) -> None:
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; choose from {', '.join(known)}")
    print(
        f"bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}, {checkout()}",
        flush=True,
    )
    for name in names or known:
        bench = importlib.import_module(f"tests.bench.bench_{name}")
        print(f"{name}: {(bench.__doc__ or '').strip().splitlines()[0]}", flush=True)
        print(f"  ({load_average()} before)", flush=True)
        result = bench.rows()
        if inspect.isasyncgen(result):
            print(HEADER, flush=True)
            async for row in result:
                print(line(row), flush=True)
        else:
            for row in await result:
                print(line(row), flush=True)
        print(f"  ({load_average()} after)", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
