"""Scheduled retraining from intake's own handled tickets (the demo city, real SQLite app, an
injected clock): due on its schedule only, one replica at a time through the lease row, in a
process of its own while requests are answered, new versions stored but put in use only when
they beat the one in use on their held-out figures; the job exists only when configured."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from intake import app as intake_app_module
from intake import modelstore, retraining, training
from intake.config import settings
from shared.clock import FrozenClock
from tests.intake.test_learning_loop import answer_consultation
from tests.support import OPERATOR

HEATING = "公共服务/供暖"
WAGES = "劳动保障/拖欠薪资"
ANSWERED = [
    (HEATING, "暖气不热", "家里暖气不热，室温只有十五度，请问什么时候能修好？"),
    (HEATING, "供暖温度", "请问供暖温度不达标可以找谁？"),
    (HEATING, "暖气漏水", "暖气管道漏水，请问报修电话是多少？"),
    (HEATING, "暖气片", "暖气片一直是凉的，请问供暖公司电话？"),
    (WAGES, "工资拖欠", "公司拖欠工资两个月，请问去哪里投诉？"),
    (WAGES, "欠薪", "包工头拖欠工钱，请问怎么维权？"),
    (WAGES, "讨薪", "老板不发工资，请问劳动监察在哪？"),
    (WAGES, "工钱", "干完活不给工钱，请问能不能仲裁？"),
]
EVERY, HISTORY = timedelta(days=7), timedelta(days=365)


def _by_target(outcomes: list[training.Outcome] | None) -> dict[str, training.Outcome]:
    assert outcomes is not None, "not retrained"
    return {o.target: o for o in outcomes}


def _in_use(data_dir: Path) -> str | None:
    return modelstore.current_name(modelstore.root(data_dir))


async def test_retraining_runs_on_its_schedule_one_replica_at_a_time_and_switches_only_to_better(
    intake_app: FastAPI, api: httpx.AsyncClient, clock: FrozenClock, tmp_path: Path
) -> None:
    for row in ANSWERED:
        await answer_consultation(api, *row)
    sessions = intake_app.state.runtimes["intake"].sessionmaker
    data_dir = tmp_path / "models-home"

    def due(
        holder: str, train: retraining.Trainer = retraining.in_a_thread
    ) -> asyncio.Task[list[training.Outcome] | None]:
        return asyncio.create_task(
            retraining.retrain_if_due(
                sessions,
                clock,
                every=EVERY,
                history=HISTORY,
                data_dir=data_dir,
                holder=holder,
                train=train,
            )
        )

    # The first run trains in a process of its own; requests are answered meanwhile.
    first = due("replica-a", retraining.in_a_process)
    await asyncio.sleep(0.05)
    r = await api.post("/api/v1/classify", headers=OPERATOR, json={"description": "暖气不热"})
    assert r.status_code == 200 and not first.done()
    outcomes = _by_target(await first)
    assert (outcomes["category"].version, outcomes["category"].in_use) == ("v0001", True)
    assert "macro_f1" in outcomes["category"].evaluation
    assert outcomes["kind"].version is None  # every ticket a consultation: nothing to learn
    assert outcomes["lead_unit"].note == "no labelled examples"  # none dispatched yet
    async with sessions() as session:
        lease = await retraining.last_run(session)
    assert lease is not None and lease.holder is None and lease.started_at == clock.now()
    assert lease.outcome and "category v0001" in lease.outcome

    # Not due again before a week has passed, whichever replica asks.
    clock.advance(timedelta(days=6))
    assert await due("replica-b") is None
    # A week on, replica c takes the lease and dies; b must wait until the lease runs out.
    clock.advance(timedelta(days=1))
    async with sessions() as session, session.begin():
        assert await retraining.take_lease(
            session, holder="replica-c", now=clock.now(), every=EVERY
        )
    async with sessions() as session, session.begin():
        assert not await retraining.take_lease(
            session, holder="replica-b", now=clock.now(), every=EVERY
        )
    assert await due("replica-b") is None
    clock.advance(timedelta(seconds=retraining.LEASE_SECONDS))
    outcomes = _by_target(await due("replica-b"))
    # The same tickets give the same held-out figures: stored, not put in use.
    assert outcomes["category"].version == "v0002" and not outcomes["category"].in_use
    assert "v0001 stays in use" in outcomes["category"].note
    assert _in_use(data_dir) == "v0001"

    # A version in use that scored worse held out is replaced by the next run.
    evaluation = modelstore.root(data_dir) / "v0001" / "evaluation.json"
    worse = {**json.loads(evaluation.read_text("utf-8")), "macro_f1": 0.1}
    evaluation.write_text(json.dumps(worse), "utf-8")
    clock.advance(EVERY)
    outcomes = _by_target(await due("replica-a"))
    assert outcomes["category"].version == "v0003" and outcomes["category"].in_use
    assert _in_use(data_dir) == "v0003"
    assert modelstore.rollback(modelstore.root(data_dir)) == "v0001"  # supervisors still can

    # A supervisor switched the category model off: retraining stores, and it stays off.
    modelstore.stop_using(modelstore.root(data_dir))
    clock.advance(EVERY)
    outcomes = _by_target(await due("replica-a"))
    assert outcomes["category"].version == "v0004" and not outcomes["category"].in_use
    assert _in_use(data_dir) is None


async def test_a_failed_run_gives_the_lease_back_saying_why(
    intake_app: FastAPI, clock: FrozenClock, tmp_path: Path
) -> None:
    sessions = intake_app.state.runtimes["intake"].sessionmaker

    async def broken(*_: object, **__: object) -> list[training.Outcome]:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await retraining.retrain_if_due(
            sessions, clock, every=EVERY, history=HISTORY, data_dir=tmp_path, train=broken
        )
    async with sessions() as session:
        lease = await retraining.last_run(session)
    assert lease is not None and lease.holder is None and lease.outcome == "failed: disk full"


def test_the_job_runs_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    settings.cache_clear()
    try:
        assert intake_app_module.build().jobs == []
        monkeypatch.setenv("INTAKE_RETRAIN_EVERY_DAYS", "7")
        monkeypatch.setenv("INTAKE_RETRAIN_CHECK_SECONDS", "600")
        settings.cache_clear()
        (job,) = intake_app_module.build().jobs
        assert (job.name, job.every_seconds, job.run) == (
            "retrain_models",
            600,
            retraining.scheduled,
        )
    finally:
        settings.cache_clear()
