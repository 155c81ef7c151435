"""The Chinese names of the figures and unit classes (考评指标、单位类别) as reports and pages
show them: one place, so an Excel report and the dashboard never name a figure differently.
Display text only; the rules that compute the figures are analytics'."""

from __future__ import annotations

METRIC_NAMES = {
    "response_rate": "响应率",
    "resolution_rate": "解决率",
    "satisfaction_rate": "满意率",
    "completion_rate": "办结率",
    "on_time_completion_rate": "按时办结率",
    "reopen_rate": "重办率",
    "return_rate": "退单率",
    "coordination_rate": "协同解决率",
    "callback_coverage": "回访率",
    "average_handling_days": "平均办理时长(工作日)",
    "composite_score": "综合得分",
}
UNIT_CLASS_NAMES = {
    "district": "区县",
    "street": "街道乡镇",
    "department": "部门",
    "enterprise": "企业",
    "community": "社区村",
}
