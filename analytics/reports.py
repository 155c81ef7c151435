"""Reports (日统计、周热点、月分析、季通报、年报告): the figures for a period beside the previous
period's, the units' ranking, hot topics and warnings; as JSON, CSV (UTF-8 with BOM, for Excel
users) or Excel (openpyxl, Chinese headers)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import directory, domain, rates, service, topics
from analytics.aggregates import Filters
from analytics.config import settings
from shared.terms import METRIC_NAMES, UNIT_CLASS_NAMES

KINDS = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "annual": "year",
}
TITLES = {
    "daily": "12345热线日统计",
    "weekly": "12345热线周热点报告",
    "monthly": "12345热线月度分析",
    "quarterly": "12345热线季度通报",
    "annual": "12345热线年度报告",
}
COUNT_NAMES = {
    "received": "受理量",
    "answered": "直接办结",
    "dispatched": "派单量",
    "completed": "办结量",
    "verdicts": "回访评价量",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "reopened": "重办量",
    "returned": "退单量",
    "excluded": "剔除量",
}


def _value(figures: dict[str, Any], name: str) -> float | None:
    v = figures[name]
    if isinstance(v, rates.Rate | rates.Average):
        return v.value
    return v  # type: ignore[no-any-return]


def _change(now: float | None, before: float | None) -> float | None:
    return round(now - before, 4) if now is not None and before is not None else None


async def build(
    session: AsyncSession,
    kind: str,
    day: date,
    config: rates.MetricConfig,
    filters: Filters | None = None,
) -> dict[str, Any]:
    """The report of `kind` for the period containing `day`, with the previous period, by the
    formula version `config` names; figures and hot topics within `filters` (an area), the
    units' ranking city-wide."""
    filters = filters or Filters()
    granularity = KINDS[kind]
    first = domain.period_start(day, granularity)
    last = domain.period_end(first, granularity)
    prev_first, prev_last = domain.previous_period(first, granularity)
    now_t = await service.period_tally(session, first, last, filters)
    prev_t = await service.period_tally(session, prev_first, prev_last, filters)
    now_f, prev_f = service.figures(now_t, config), service.figures(prev_t, config)
    metrics = [
        {
            "metric": name,
            "name": label,
            "current": _value(now_f, name),
            "previous": _value(prev_f, name),
            "change": _change(_value(now_f, name), _value(prev_f, name)),
        }
        for name, label in METRIC_NAMES.items()
    ]
    counts = [
        {
            "count": name,
            "name": label,
            "current": getattr(now_t, name),
            "previous": getattr(prev_t, name),
            "change": getattr(now_t, name) - getattr(prev_t, name),
        }
        for name, label in COUNT_NAMES.items()
    ]
    ranked = await service.ranking(
        session, first=first, last=last, unit_class=None, metric="composite_score", config=config
    )
    known = await service.units(session)
    ranking = [
        {
            "rank": r.rank,
            "unit_id": r.unit_id,
            "unit_name": known.get(r.unit_id, (None, ""))[0],
            "unit_class": known.get(r.unit_id, (None, None))[1],
            "score": r.score,
            "response_rate": rates.response_rate(r.tally).value,
            "resolution_rate": rates.resolution_rate(r.tally, config).value,
            "satisfaction_rate": rates.satisfaction_rate(r.tally, config).value,
        }
        for r in ranked
    ]
    s = settings()
    hot = await service.hot_topics(
        session,
        first=first,
        granularity=granularity,
        category_level=2,
        area_level="district",
        filters=filters,
    )
    d = await directory.current(session)
    hot_rows = [
        {
            "category": t.category,
            "area_code": t.area_code,
            "area_name": d.area_name(t.area_code),
            "count": t.count,
            "previous": t.previous,
            "change": t.change,
            "share": t.share,
            "spike": topics.is_spike(t, ratio=s.spike_ratio, min_count=s.spike_min_count),
        }
        for t in hot[:20]
    ]
    return {
        "kind": kind,
        "title": f"{TITLES[kind]} {domain.period_label(first, granularity)}",
        "period_from": first.isoformat(),
        "period_to": last.isoformat(),
        "previous_from": prev_first.isoformat(),
        "previous_to": prev_last.isoformat(),
        "area": filters.area_code,
        "area_name": d.area_name(filters.area_code) if filters.area_code else None,
        "config_version": config.version,
        "metrics": metrics,
        "counts": counts,
        "ranking": ranking,
        "hot_topics": hot_rows,
        "warnings": [h for h in hot_rows if h["spike"]],
    }


SECTIONS = (
    (
        "metrics",
        "指标",
        (("name", "指标"), ("current", "本期"), ("previous", "上期"), ("change", "变化")),
    ),
    (
        "counts",
        "数量",
        (("name", "项目"), ("current", "本期"), ("previous", "上期"), ("change", "变化")),
    ),
    (
        "ranking",
        "单位排名",
        (
            ("rank", "名次"),
            ("unit_name", "单位"),
            ("unit_class", "类别"),
            ("score", "综合得分"),
            ("response_rate", "响应率"),
            ("resolution_rate", "解决率"),
            ("satisfaction_rate", "满意率"),
        ),
    ),
    (
        "hot_topics",
        "热点诉求",
        (
            ("category", "诉求类别"),
            ("area_name", "区域"),
            ("count", "本期数量"),
            ("previous", "上期数量"),
            ("change", "环比"),
            ("share", "占比"),
            ("spike", "预警"),
        ),
    ),
)


def _cell(row: dict[str, Any], name: str) -> Any:
    v = row.get(name)
    if name == "unit_class":
        return UNIT_CLASS_NAMES.get(v or "", v)
    if name == "spike":
        return "是" if v else "否"
    return "" if v is None else v


def to_csv(report: dict[str, Any]) -> bytes:
    """Sections one after another, each with its Chinese header row; UTF-8 with a BOM."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerows(_header(report))
    for key, label, columns in SECTIONS:
        w.writerow([])
        w.writerow([label])
        w.writerow([c for _, c in columns])
        for row in report[key]:
            w.writerow([_cell(row, n) for n, _ in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# Which cells hold a rate (shown as a percentage in Excel): a whole column of a section, or in
# the metrics section the rows of a rate (its current, previous and change).
PERCENT_COLUMNS = {
    "ranking": {"response_rate", "resolution_rate", "satisfaction_rate"},
    "hot_topics": {"change", "share"},
}
PERCENT = "0.00%"
DECIMAL = "0.00"


def number_format(section: str, row: dict[str, Any], column: str) -> str | None:
    """Excel's number format for one cell of a report: rates as percentages (85.30%), the
    other figures with two decimals, counts and text as they are."""
    if section == "metrics" and column in ("current", "previous", "change"):
        return PERCENT if row["metric"] in rates.RATE_NAMES else DECIMAL
    if column in PERCENT_COLUMNS.get(section, ()):
        return PERCENT
    if column == "score":
        return DECIMAL
    return None


def display_width(value: Any) -> int:
    """How many columns a value takes in Excel: a Chinese character takes two."""
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _header(report: dict[str, Any]) -> list[list[Any]]:
    rows = [
        [report["title"]],
        ["统计期间", report["period_from"], report["period_to"]],
        ["对比期间", report["previous_from"], report["previous_to"]],
        ["口径版本", report["config_version"]],
    ]
    if report.get("area"):
        rows.append(["区域", report["area_name"], report["area"]])
    return rows


def to_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per section, Chinese headers, rates as percentages, columns as wide as their
    contents; the title and periods on the first sheet."""
    book = Workbook()
    first = True
    for key, label, columns in SECTIONS:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        sheet.title = label
        if first:
            for line in _header(report):
                sheet.append(line)
            sheet.append([])
            first = False
        sheet.append([c for _, c in columns])
        for row in report[key]:
            sheet.append([_cell(row, n) for n, _ in columns])
            for index, (name, _) in enumerate(columns, start=1):
                fmt = number_format(key, row, name)
                if fmt:
                    sheet.cell(row=sheet.max_row, column=index).number_format = fmt
        for index, (name, title) in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            cells = [title, *(_cell(row, name) for row in report[key])]
            widest = max(display_width(c) + (3 if isinstance(c, float) else 0) for c in cells)
            sheet.column_dimensions[letter].width = min(max(widest + 2, 8), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
