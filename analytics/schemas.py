"""analytics' HTTP models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

# The closed sets the query parameters take, so a wrong value is a 422 naming the parameter.
# Each matches the tuple the rules use (domain.GRANULARITIES, rankings.RANKABLE, reports.KINDS);
# tests/services checks that they agree.
Granularity = Literal["day", "week", "month", "quarter", "year"]
AreaLevelName = Literal["district", "street", "community"]
Metric = Literal[
    "composite_score",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "completion_rate",
    "on_time_completion_rate",
    "reopen_rate",
    "return_rate",
    "coordination_rate",
    "callback_coverage",
]
ReportKind = Literal["daily", "weekly", "monthly", "quarterly", "annual"]
ReportFormat = Literal["json", "csv", "xlsx"]


class RateOut(BaseModel):
    value: float | None  # None when nothing is in the denominator
    numerator: float
    denominator: int


class AverageOut(BaseModel):
    value: float | None
    total: float
    count: int


class FiguresOut(BaseModel):
    response_rate: RateOut  # 响应率
    resolution_rate: RateOut  # 解决率
    satisfaction_rate: RateOut  # 满意率
    completion_rate: RateOut  # 办结率
    on_time_completion_rate: RateOut  # 按时办结率
    reopen_rate: RateOut  # 重办率
    return_rate: RateOut  # 退单率
    coordination_rate: RateOut  # 协同解决率
    callback_coverage: RateOut  # 回访率
    average_handling_days: AverageOut  # 平均办理时长(工作日)
    composite_score: float | None  # 综合得分 (0–100)
    counts: dict[str, float]


class GroupOut(FiguresOut):
    key: dict[str, Any]


class RatesOut(FiguresOut):
    period_from: date
    period_to: date
    unit_id: str | None
    unit_class: str | None = None
    area: str | None = None
    category: str | None = None
    channel: str | None = None
    config_version: str
    group_by: list[str] = []
    groups: list[GroupOut] = []


class RankedOut(BaseModel):
    rank: int | None
    tier: int | None  # 分档 within the class: 1 = best (analytics.rankings.tier_of)
    unit_id: str
    unit_name: str | None
    unit_class: str | None
    score: float | None
    previous_rank: int | None  # last month
    previous_score: float | None
    change: float | None  # score − previous score (trend month over month)
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_completion_rate: float | None


class RankingOut(BaseModel):
    month: str
    unit_class: str | None
    metric: str
    config_version: str
    ranked_units: int  # units with a score
    tiers: int  # how many tiers the ranked units are split into
    units: list[RankedOut]
    bottom: list[RankedOut] = []


class FlaggedMonthOut(BaseModel):
    month: str
    bottom: list[str]


class FlaggedOut(BaseModel):
    month: str
    unit_class: str | None
    metric: str
    n: int
    months: int
    config_version: str
    flagged: list[str]  # 末位约谈: in the bottom n every one of the months
    history: list[FlaggedMonthOut]


class TopicOut(BaseModel):
    category: str
    area_code: str
    area_name: str | None
    count: int
    previous: int
    change: float | None
    baseline: float
    share: float | None
    spike: bool


class TopicsOut(BaseModel):
    period: str
    period_from: date
    period_to: date
    previous_from: date
    previous_to: date
    baseline_periods: int
    config_version: str
    topics: list[TopicOut]


class CandidateOut(BaseModel):
    category: str
    area_code: str
    area_name: str | None
    repeats: int
    unsolved: int
    tickets: int
    score: int


class MonthlyProblemOut(BaseModel):
    month: str
    config_version: str
    candidate: CandidateOut | None  # 每月一题
    candidates: list[CandidateOut]


class TodayOut(BaseModel):
    """Today at the centre (今日态势): received by hour (China time) and tickets still open."""

    day: date
    received: int
    received_by_hour: list[int]  # 24 counts, 0:00–1:00 first
    open_tickets: int


class ConfigVersionOut(BaseModel):
    version: str  # the label figures show as `config_version`
    digest: str  # SHA-256 of the canonical configuration: the version's identity
    created_at: datetime  # when this configuration was first in force
    in_force: bool
    configuration: dict[str, Any]  # weights, exclusions, formulas, thresholds
