"""analytics' HTTP models."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class RateOut(BaseModel):
    value: float | None  # None when nothing is in the denominator
    numerator: float
    denominator: int


class RatesOut(BaseModel):
    period_from: date
    period_to: date
    unit_id: str | None
    config_version: str
    response_rate: RateOut  # 响应率
    resolution_rate: RateOut  # 解决率
    satisfaction_rate: RateOut  # 满意率
