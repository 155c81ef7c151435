"""The alert rules and the operations dashboard shipped in deploy/ name only series the platform
serves: a renamed metric would silently blind them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401  (registers the platform's metrics)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERIES = re.compile(r"\b(hotline_[a-z_]+)\b")


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def served() -> set[str]:
    """Every series name the registered metrics expose, labelled or not yet observed."""
    return {
        metric.name + suffix
        for metric in REGISTRY.collect()
        for suffix in SUFFIXES.get(metric.type, ("",))
    }


def test_every_alert_rule_watches_served_series() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text("utf-8"))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 8
    used = {name for e in exprs for name in SERIES.findall(e)}
    missing = used - served()
    assert used and not missing, missing
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"ConsumerLagging", "OutboxStuck", "DeadLetters", "BrokerLogRegressed"} <= alerts
    assert {"TimersFiringLate", "HighErrorRate"} <= alerts


def test_the_dashboard_plots_served_series() -> None:
    board = json.loads((DEPLOY / "grafana" / "hotline-operations.json").read_text("utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {name for e in exprs for name in SERIES.findall(e)}
    assert not used - served(), used - served()
