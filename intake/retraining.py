"""Scheduled retraining (定期重训) of the suggestion models from intake's own handled tickets.

With INTAKE_RETRAIN_EVERY_DAYS set (off by default), each intake process looks every
INTAKE_RETRAIN_CHECK_SECONDS whether retraining is due; one replica at a time does it:
- **the lease**: a row of `intake_leases` taken with one conditional UPDATE: free (or its
  holder's time is up, `LEASE_SECONDS`, should that replica have died) and due (the last run
  started `every` ago or more, or never finished). The database decides between replicas
  racing for it. A failed run gives the lease back and waits for the next turn;
- **off the loop**: the examples are read through the service's session, and training runs in
  a separate process, so requests are not kept waiting by it (nor by the GIL);
- **the switching rule** (`training.beats`): every target trained is stored as a new version,
  but it goes into use only when its held-out macro-F1 beats the version in use (equal
  macro-F1: a higher accuracy). The first version of a target goes into use; a target a
  supervisor switched off (`models off`) stays off. A supervisor can still choose any version.

Times come from the injected clock, so tests move through weeks in a call.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake import examples
from intake.config import settings
from intake.models import Lease
from shared.clock import Clock
from shared.db import insert_for
from shared.in_place import offloaded
from shared.settings import platform_settings

if TYPE_CHECKING:  # training loads scikit-learn: only in the process that trains
    from intake import learning, training

log = logging.getLogger(__name__)

LEASE = "retrain_models"
# Longer than any training takes; a replica that died holding the lease frees it after this.
LEASE_SECONDS = 2 * 3600
# Who this process is, as a lease holder.
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

Trainer = Callable[..., Awaitable[list["training.Outcome"]]]


async def take_lease(
    session: AsyncSession, *, holder: str, now: datetime, every: timedelta
) -> bool:
    """Take the retraining lease if it is free (or expired) and retraining is due: the last
    run started `every` ago or more, never finished (its replica died), or there was none.
    One UPDATE decides between replicas."""
    await session.execute(insert_for(session, Lease).values(name=LEASE).on_conflict_do_nothing())
    taken = await session.execute(
        update(Lease)
        .where(Lease.name == LEASE)
        .where(or_(Lease.until.is_(None), Lease.until <= now))
        .where(
            or_(
                Lease.started_at.is_(None),
                Lease.started_at <= now - every,
                # A run that never finished (its replica died): again once its lease is up.
                Lease.finished_at.is_(None),
                Lease.finished_at < Lease.started_at,
            )
        )
        .values(holder=holder, until=now + timedelta(seconds=LEASE_SECONDS), started_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


async def give_back(session: AsyncSession, *, holder: str, now: datetime, outcome: str) -> None:
    """Free the lease, with what the run did (kept for whoever asks: `last_run`)."""
    await session.execute(
        update(Lease)
        .where(Lease.name == LEASE, Lease.holder == holder)
        .values(holder=None, until=None, finished_at=now, outcome=outcome[:2000])
        .execution_options(synchronize_session=False)
    )


async def last_run(session: AsyncSession) -> Lease | None:
    """The lease row: when retraining last started and finished, and what it did."""
    return (await session.scalars(select(Lease).where(Lease.name == LEASE))).first()


def _work(
    found: Mapping[str, Sequence[learning.Example]],
    data_dir: Path,
    unit_names: Mapping[str, str],
    now: datetime,
) -> Callable[[], list[training.Outcome]]:
    from intake import training

    return partial(
        training.train_and_store,
        {target: list(rows) for target, rows in found.items()},
        data_dir=data_dir,
        source="tickets (scheduled)",
        policy="if_better",
        unit_names=dict(unit_names),
        now=now,
    )


async def in_a_process(
    found: Mapping[str, Sequence[learning.Example]],
    *,
    data_dir: Path,
    unit_names: Mapping[str, str],
    now: datetime,
) -> list[training.Outcome]:
    """`training.train_and_store` in a child process (spawned: safe beside the service's
    threads), awaited without blocking the event loop."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        work = _work(found, data_dir, unit_names, now)
        return await asyncio.get_running_loop().run_in_executor(pool, work)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def in_a_thread(
    found: Mapping[str, Sequence[learning.Example]],
    *,
    data_dir: Path,
    unit_names: Mapping[str, str],
    now: datetime,
) -> list[training.Outcome]:
    """The same in a thread of this process (tests: no interpreter to start each time)."""
    return await asyncio.to_thread(_work(found, data_dir, unit_names, now))


def summary(outcomes: Sequence[training.Outcome]) -> str:
    parts = []
    for o in outcomes:
        if o.version is None:
            parts.append(f"{o.target}: not trained ({o.note})")
        else:
            f1 = o.evaluation.get("macro_f1")
            score = f", macro-F1 {100 * f1:.1f}" if isinstance(f1, int | float) else ""
            state = "in use" if o.in_use else o.note or "stored"
            parts.append(f"{o.target} {o.version}{score}: {state}")
    return "; ".join(parts) or "nothing to train"


async def retrain_if_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    every: timedelta,
    history: timedelta,
    data_dir: Path | None = None,
    holder: str = HOLDER,
    train: Trainer = in_a_process,
) -> list[training.Outcome] | None:
    """Retrain every target from the tickets received in the last `history` if it is due
    and this replica holds the lease; None when it is not its turn."""
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        if not await take_lease(session, holder=holder, now=now, every=every):
            return None
    outcome = "failed"
    try:
        # Months of tickets: on SQLite, read on the connection's thread, not the loop's.
        with offloaded():
            async with sessionmaker() as session:
                labelled = await examples.labelled_tickets(session, since=now - history)
        outcomes = await train(
            labelled.by_target,
            data_dir=data_dir or platform_settings().data_dir,
            unit_names=labelled.unit_names,
            now=now,
        )
        outcome = summary(outcomes)
        log.info("intake: scheduled retraining: %s", outcome)
        return outcomes
    except Exception as exc:
        outcome = f"failed: {exc}"
        raise
    finally:
        async with sessionmaker() as session, session.begin():
            await give_back(session, holder=holder, now=clock.now(), outcome=outcome)


async def scheduled(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> object:
    """The job intake runs every INTAKE_RETRAIN_CHECK_SECONDS (with INTAKE_RETRAIN_EVERY_DAYS
    set): retrain if due, on the settings' schedule and history."""
    s = settings()
    return await retrain_if_due(
        sessionmaker,
        clock,
        every=timedelta(days=s.retrain_every_days),
        history=timedelta(days=s.retrain_history_days),
    )
