"""A request that cannot reach its database (restarting, every pooled connection busy) is
refused with 503 and Retry-After — nothing was written, a retry will work — not a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.problems import install_problem_handlers


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/work")
    async def work() -> None:
        raise error

    return app


async def answer(error: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/work")


async def test_a_database_outage_is_a_503_with_retry_after() -> None:
    for error in (
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached"),
        OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused")),
    ):
        r = await answer(error)
        assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
        assert r.headers["content-type"] == "application/problem+json"


async def test_any_other_error_is_still_a_500() -> None:
    r = await answer(ValueError("a bug"))
    assert r.status_code == 500 and "retry-after" not in r.headers
