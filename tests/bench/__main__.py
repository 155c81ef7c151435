"""Run every benchmark module and print its rows."""

from __future__ import annotations

import asyncio
import importlib
import os
import pkgutil
import sys

import tests.bench


async def main() -> None:
    print(f"bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for module in pkgutil.iter_modules(tests.bench.__path__):
        if not module.name.startswith("bench_"):
            continue
        bench = importlib.import_module(f"tests.bench.{module.name}")
        print(
            f"{module.name.removeprefix('bench_')}: {(bench.__doc__ or '').strip().splitlines()[0]}"
        )
        for row in await bench.rows():
            print(f"  {row.name:<44} {row.rate:>10.0f} {row.unit:<10} ratio {row.ratio:6.2f}")


if __name__ == "__main__":
    asyncio.run(main())
