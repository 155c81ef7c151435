"""analytics' routes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import domain, service
from analytics.rates import Rate
from analytics.schemas import RateOut, RatesOut
from shared.auth import Principal, Role, require
from shared.clock import CHINA
from shared.errors import Forbidden
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Session = Annotated[AsyncSession, Depends(session_dependency("analytics"))]
Now = Annotated[datetime, Depends(current_time)]
Reader = Annotated[
    Principal, Depends(require(Role.SUPERVISOR, Role.OPERATOR, Role.SERVICE, Role.UNIT))
]


def _out(rate: Rate) -> RateOut:
    return RateOut(value=rate.value, numerator=rate.numerator, denominator=rate.denominator)


@router.get("/rates", response_model=RatesOut)
async def three_rates(
    session: Session,
    now: Now,
    who: Reader,
    from_: Annotated[
        date | None, Query(alias="from", description="first day (China time); default: 30 days ago")
    ] = None,
    to: Annotated[date | None, Query(description="last day, inclusive; default: today")] = None,
    unit_id: str | None = None,
) -> RatesOut:
    """响应率, 解决率, 满意率 for a period, city-wide or for one unit. A unit sees only its own."""
    if who.role is Role.UNIT:
        if unit_id not in (None, who.unit_id):
            raise Forbidden("A unit sees only its own figures.")
        unit_id = who.unit_id
    to = to or now.astimezone(CHINA).date()
    from_ = from_ or to - timedelta(days=29)
    start, end = domain.period_bounds(from_, to)
    result = await service.three_rates(session, start=start, end=end, unit_id=unit_id)
    return RatesOut(
        period_from=from_,
        period_to=to,
        unit_id=unit_id,
        config_version=service.rate_config().version,
        response_rate=_out(result["response"]),
        resolution_rate=_out(result["resolution"]),
        satisfaction_rate=_out(result["satisfaction"]),
    )
