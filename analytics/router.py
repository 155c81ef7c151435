"""analytics' routes: figures, rankings, hot topics, warnings, 每月一题, reports.

Supervisors, operators and services see everything; a unit sees only its own figures and its
own rank (403 for anything else)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import (
    directory,
    domain,
    rankings,
    rates,
    reports,
    service,
    today,
    topics,
    versions,
)
from analytics.config import settings
from analytics.rates import Tally
from analytics.schemas import (
    AreaLevelName,
    AverageOut,
    CandidateOut,
    ConfigVersionOut,
    FiguresOut,
    FlaggedMonthOut,
    FlaggedOut,
    Granularity,
    GroupOut,
    Metric,
    MonthlyProblemOut,
    RankedOut,
    RankingOut,
    RateOut,
    RatesOut,
    ReportFormat,
    ReportKind,
    TodayOut,
    TopicOut,
    TopicsOut,
)
from shared.auth import Principal, Role, require
from shared.clock import CHINA
from shared.errors import Forbidden, InvalidInput
from shared.events.routing import UnitClass
from shared.problems import AUTHENTICATED, problem_responses
from shared.runtime import current_time, session_dependency

router = APIRouter(
    prefix="/api/v1/analytics", tags=["analytics"], responses=problem_responses(*AUTHENTICATED)
)

Session = Annotated[AsyncSession, Depends(session_dependency("analytics"))]
Now = Annotated[datetime, Depends(current_time)]
# Leaders (领导) read what the centre reads; no route here changes anything.
Reader = Annotated[
    Principal,
    Depends(require(Role.SUPERVISOR, Role.OPERATOR, Role.SERVICE, Role.UNIT, Role.LEADER)),
]
Centre = Annotated[
    Principal, Depends(require(Role.SUPERVISOR, Role.OPERATOR, Role.SERVICE, Role.LEADER))
]

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
AREA_LEVELS = ("district", "street", "community")


def _rate(rate: rates.Rate) -> RateOut:
    return RateOut(value=rate.value, numerator=rate.numerator, denominator=rate.denominator)


def _figures(tally: Tally, config: rates.MetricConfig) -> dict[str, Any]:
    f = service.figures(tally, config)
    avg: rates.Average = f["average_handling_days"]
    return {
        **{name: _rate(f[name]) for name in rates.RATE_NAMES},
        "average_handling_days": AverageOut(value=avg.value, total=avg.total, count=avg.count),
        "composite_score": f["composite_score"],
        "counts": tally.as_dict(),
    }


def _month(raw: str | None, now: datetime, field: str = "month") -> date:
    if raw is None:
        return now.astimezone(CHINA).date().replace(day=1)
    m = MONTH.match(raw)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"{field}: expected YYYY-MM, got '{raw}'.", field=field)
    return date(int(m.group(1)), int(m.group(2)), 1)


def _unit_scope(who: Principal, unit_id: str | None) -> str | None:
    if who.role is Role.UNIT:
        if unit_id not in (None, who.unit_id):
            raise Forbidden("A unit sees only its own figures.")
        return who.unit_id
    return unit_id


@router.get("/rates", response_model=RatesOut)
async def figures(
    session: Session,
    now: Now,
    who: Reader,
    from_: Annotated[
        date | None, Query(alias="from", description="first day (China time); default: 30 days ago")
    ] = None,
    to: Annotated[date | None, Query(description="last day, inclusive; default: today")] = None,
    unit_id: str | None = None,
    unit_class: Annotated[UnitClass | None, Query()] = None,
    area: Annotated[str | None, Query(description="an area code; its sub-areas included")] = None,
    category: Annotated[
        str | None, Query(description="a category; sub-categories included")
    ] = None,
    channel: str | None = None,
    group_by: Annotated[
        str | None,
        Query(description=f"comma-separated: {', '.join(domain.GROUP_BY_FIELDS)}"),
    ] = None,
) -> RatesOut:
    """响应率, 解决率, 满意率 and the rest for a period, city-wide, filtered, or grouped."""
    config = await service.metric_config(session, now)
    unit_id = _unit_scope(who, unit_id)
    names = domain.parse_group_by(group_by)
    if to is None and from_ is not None:
        raise InvalidInput("to: give the last day of the period as well as the first.", field="to")
    to = to or now.astimezone(CHINA).date()
    from_ = from_ or to - timedelta(days=29)
    domain.check_period(from_, to, domain.granularity_of(names))
    filters = await service.make_filters(
        session,
        unit_id=unit_id,
        unit_class=unit_class,
        area_code=area,
        category=category,
        channel=channel,
    )
    total = await service.period_tally(session, from_, to, filters)
    groups = (
        await service.grouped(session, first=from_, last=to, filters=filters, group_by=names)
        if names
        else []
    )
    return RatesOut(
        period_from=from_,
        period_to=to,
        unit_id=unit_id,
        unit_class=unit_class,
        area=area,
        category=category,
        channel=channel,
        config_version=config.version,
        group_by=list(names),
        groups=[GroupOut(key=key, **_figures(tally, config)) for key, tally in groups],
        **_figures(total, config),
    )


def _metric(metric: str) -> str:
    if metric not in rankings.RANKABLE:
        raise InvalidInput(
            f"metric: '{metric}' cannot be ranked on; choose from {', '.join(rankings.RANKABLE)}.",
            field="metric",
        )
    return metric


def _unit_class(unit_class: str | None) -> str | None:
    if unit_class is not None and unit_class not in domain.UNIT_CLASSES:
        raise InvalidInput(
            f"unit_class: '{unit_class}' is not one of {', '.join(domain.UNIT_CLASSES)}.",
            field="unit_class",
        )
    return unit_class


@router.get("/rankings", response_model=RankingOut)
async def monthly_ranking(
    session: Session,
    now: Now,
    who: Reader,
    month: Annotated[str | None, Query(description="YYYY-MM; default: this month")] = None,
    unit_class: UnitClass | None = None,
    metric: Metric = "composite_score",
    bottom: Annotated[int, Query(ge=0, le=100, description="also list the bottom N")] = 0,
) -> RankingOut:
    """Units ranked for a month (per unit class), with last month's rank and score. A unit
    sees only its own row (and how many units were ranked)."""
    config = await service.metric_config(session, now)
    first = _month(month, now)
    _metric(metric), _unit_class(unit_class)
    last = domain.period_end(first, "month")
    ranked = await service.ranking(
        session, first=first, last=last, unit_class=unit_class, metric=metric, config=config
    )
    prev_first = (first - timedelta(days=1)).replace(day=1)
    previous = {
        r.unit_id: r
        for r in await service.ranking(
            session,
            first=prev_first,
            last=domain.period_end(prev_first, "month"),
            unit_class=unit_class,
            metric=metric,
            config=config,
        )
    }
    known = await service.units(session)
    ranked_units = sum(1 for r in ranked if r.rank is not None)
    tiers = service.configuration().ranking_tiers

    def out(r: rankings.Ranked) -> RankedOut:
        before = previous.get(r.unit_id)
        name, cls = known.get(r.unit_id, (None, None))
        return RankedOut(
            rank=r.rank,
            tier=rankings.tier_of(r.rank, ranked_units, tiers),
            unit_id=r.unit_id,
            unit_name=name,
            unit_class=cls,
            score=r.score,
            previous_rank=before.rank if before else None,
            previous_score=before.score if before else None,
            change=round(r.score - before.score, 4)
            if before and r.score is not None and before.score is not None
            else None,
            response_rate=rates.response_rate(r.tally).value,
            resolution_rate=rates.resolution_rate(r.tally, config).value,
            satisfaction_rate=rates.satisfaction_rate(r.tally, config).value,
            on_time_completion_rate=rates.on_time_completion_rate(r.tally).value,
        )

    rows = [out(r) for r in ranked]
    bottoms = [out(r) for r in rankings.bottom(ranked, bottom)]
    if who.role is Role.UNIT:
        rows = [r for r in rows if r.unit_id == who.unit_id]
        bottoms = []
    return RankingOut(
        month=domain.period_label(first, "month"),
        unit_class=unit_class,
        metric=metric,
        config_version=config.version,
        ranked_units=ranked_units,
        tiers=tiers,
        units=rows,
        bottom=bottoms,
    )


@router.get("/rankings/flagged", response_model=FlaggedOut)
async def flagged_for_talks(
    session: Session,
    now: Now,
    who: Centre,
    month: Annotated[str | None, Query(description="the last month; YYYY-MM")] = None,
    unit_class: UnitClass | None = None,
    metric: Metric = "composite_score",
    n: Annotated[int | None, Query(ge=1, le=100, description="bottom N each month")] = None,
    months: Annotated[int | None, Query(ge=1, le=24, description="months running")] = None,
) -> FlaggedOut:
    """末位约谈: units in the bottom N of their class every month for M months running."""
    config = await service.metric_config(session, now)
    first = _month(month, now)
    _metric(metric), _unit_class(unit_class)
    s = settings()
    n, months = n or s.bottom_n, months or s.bottom_months
    units, history = await service.flagged(
        session,
        month=first,
        unit_class=unit_class,
        metric=metric,
        n=n,
        months=months,
        config=config,
    )
    return FlaggedOut(
        month=domain.period_label(first, "month"),
        unit_class=unit_class,
        metric=metric,
        n=n,
        months=months,
        config_version=config.version,
        flagged=units,
        history=[
            FlaggedMonthOut(month=domain.period_label(m, "month"), bottom=[r.unit_id for r in b])
            for m, b in history
        ],
    )


async def _topics(
    session: AsyncSession,
    now: datetime,
    *,
    period: str,
    day: date | None,
    category_level: int,
    area_level: str | None,
    area: str | None,
    category: str | None,
) -> TopicsOut:
    config = await service.metric_config(session, now)
    if period not in domain.GRANULARITIES:
        raise InvalidInput(
            f"period: choose from {', '.join(domain.GRANULARITIES)}.", field="period"
        )
    if area_level is not None and area_level not in AREA_LEVELS:
        raise InvalidInput(f"area_level: choose from {', '.join(AREA_LEVELS)}.", field="area_level")
    first = domain.period_start(day or now.astimezone(CHINA).date(), period)
    filters = await service.make_filters(
        session, unit_id=None, unit_class=None, area_code=area, category=category, channel=None
    )
    found = await service.hot_topics(
        session,
        first=first,
        granularity=period,
        category_level=category_level,
        area_level=area_level,
        filters=filters,
    )
    s = settings()
    d = await directory.current(session)
    prev_first, prev_last = domain.previous_period(first, period)
    return TopicsOut(
        period=domain.period_label(first, period),
        period_from=first,
        period_to=domain.period_end(first, period),
        previous_from=prev_first,
        previous_to=prev_last,
        baseline_periods=s.baseline_periods,
        config_version=config.version,
        topics=[
            TopicOut(
                category=t.category,
                area_code=t.area_code,
                area_name=d.area_name(t.area_code) if t.area_code else None,
                count=t.count,
                previous=t.previous,
                change=t.change,
                baseline=t.baseline,
                share=t.share,
                spike=topics.is_spike(t, ratio=s.spike_ratio, min_count=s.spike_min_count),
            )
            for t in found
        ],
    )


Period = Annotated[Granularity, Query()]
Day = Annotated[date | None, Query(alias="date", description="a day in the period; default today")]
CategoryLevel = Annotated[int, Query(ge=1, le=5, description="category depth: 1 = top level")]
AreaLevel = Annotated[AreaLevelName | None, Query(description="default: the ticket's own area")]


@router.get("/hot-topics", response_model=TopicsOut)
async def hot_topics(
    session: Session,
    now: Now,
    who: Centre,
    period: Period = "week",
    day: Day = None,
    category_level: CategoryLevel = 2,
    area_level: AreaLevel = "district",
    area: str | None = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> TopicsOut:
    """热点诉求: tickets by category × area for the period, against the previous period and
    the baseline (the mean of the previous periods)."""
    out = await _topics(
        session,
        now,
        period=period,
        day=day,
        category_level=category_level,
        area_level=area_level,
        area=area,
        category=category,
    )
    return out.model_copy(update={"topics": out.topics[:limit]})


@router.get("/warnings", response_model=TopicsOut)
async def warnings(
    session: Session,
    now: Now,
    who: Centre,
    period: Period = "week",
    day: Day = None,
    category_level: CategoryLevel = 2,
    area_level: AreaLevel = "district",
    area: str | None = None,
    category: str | None = None,
) -> TopicsOut:
    """预警: the topics that rose abnormally (see analytics.topics.is_spike)."""
    out = await _topics(
        session,
        now,
        period=period,
        day=day,
        category_level=category_level,
        area_level=area_level,
        area=area,
        category=category,
    )
    return out.model_copy(update={"topics": [t for t in out.topics if t.spike]})


@router.get("/monthly-problem", response_model=MonthlyProblemOut)
async def monthly_problem(
    session: Session,
    now: Now,
    who: Centre,
    month: Annotated[str | None, Query(description="YYYY-MM; default: this month")] = None,
    category_level: CategoryLevel = 2,
    area_level: AreaLevel = "district",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> MonthlyProblemOut:
    """每月一题: the recurring problem with the most repeats and unsolved verdicts."""
    config = await service.metric_config(session, now)
    first = _month(month, now)
    if area_level is not None and area_level not in AREA_LEVELS:
        raise InvalidInput(f"area_level: choose from {', '.join(AREA_LEVELS)}.", field="area_level")
    found = await service.monthly_problem(
        session, month=first, category_level=category_level, area_level=area_level
    )
    d = await directory.current(session)
    out = [
        CandidateOut(
            category=c.category,
            area_code=c.area_code,
            area_name=d.area_name(c.area_code) if c.area_code else None,
            repeats=c.repeats,
            unsolved=c.unsolved,
            tickets=c.tickets,
            score=c.score,
        )
        for c in found[:limit]
    ]
    return MonthlyProblemOut(
        month=domain.period_label(first, "month"),
        config_version=config.version,
        candidate=out[0] if out else None,
        candidates=out,
    )


@router.get("/today", response_model=TodayOut)
async def today_at_the_centre(session: Session, now: Now, who: Centre, day: Day = None) -> TodayOut:
    """今日态势 for the big screen: the day's reports by hour (China time) and the tickets
    still open now."""
    day = day or now.astimezone(CHINA).date()
    by_hour = await today.received_by_hour(session, day)
    return TodayOut(
        day=day,
        received=sum(by_hour),
        received_by_hour=by_hour,
        open_tickets=await today.open_tickets(session),
    )


MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/reports/{kind}",
    responses={
        200: {
            "description": "the report, in the format asked for",
            "content": {"application/json": {}, MEDIA["csv"]: {}, MEDIA["xlsx"]: {}},
        }
    },
)
async def report(
    kind: ReportKind,
    session: Session,
    now: Now,
    who: Centre,
    day: Day = None,
    format: ReportFormat = "json",
    area: Annotated[
        str | None, Query(description="an area code: figures and hot topics of this area only")
    ] = None,
) -> Response:
    """日统计 daily, 周报 weekly, 月分析 monthly, 季通报 quarterly, 年报告 annual: the period
    containing `date`, with the previous period beside it; the units' ranking is city-wide."""
    config = await service.metric_config(session, now)
    if kind not in reports.KINDS:
        raise InvalidInput(f"kind: choose from {', '.join(reports.KINDS)}.", field="kind")
    if format not in MEDIA:
        raise InvalidInput(f"format: choose from {', '.join(MEDIA)}.", field="format")
    filters = await service.make_filters(
        session, unit_id=None, unit_class=None, area_code=area, category=None, channel=None
    )
    body = await reports.build(
        session, kind, day or now.astimezone(CHINA).date(), config, filters=filters
    )
    if format == "json":
        return Response(json.dumps(body, ensure_ascii=False), media_type=MEDIA["json"])
    filename = f"report-{kind}-{body['period_from']}.{format}"
    content = reports.to_csv(body) if format == "csv" else reports.to_xlsx(body)
    return Response(
        content,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/config-versions", response_model=list[ConfigVersionOut])
async def config_versions(session: Session, now: Now, who: Reader) -> list[ConfigVersionOut]:
    """口径版本: every formula version with its whole configuration, oldest first, so the
    `config_version` a figure names can be looked up. The one in force is marked."""
    config = await service.metric_config(session, now)
    return [
        ConfigVersionOut(
            version=v.label,
            digest=v.digest,
            created_at=v.created_at,
            in_force=v.label == config.version,
            configuration=json.loads(v.config),
        )
        for v in await versions.listing(session)
    ]


__all__ = ["FiguresOut", "router"]
