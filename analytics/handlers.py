"""Events analytics consumes, by payload class: all of the lifecycle, folded into fact rows,
and routing's directory and sla's calendar, kept as reference data (analytics.service.project)."""

from __future__ import annotations

from analytics import service
from shared.runtime import Handlers

HANDLERS: Handlers = {model: service.project for model in service.CONSUMED}
