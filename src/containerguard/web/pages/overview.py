"""Overview: the secure score, unhealthy resources, open vulnerabilities by severity, the last 24 hours
of alerts by severity and tactic, and 30-day trends as SVG charts; an empty estate gets first steps."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from containerguard.api.deps import Ctx
from containerguard.api.routes.registries import WEBHOOK_PATH

from ..charts import Bar, Series, bar_chart, column_chart, line_chart
from ..queries.overview import AlertSummary, Posture, posture, recent_alerts
from ..queries.trends import HISTORY, Day, refresh, trend
from ..render import render
from ..session import WebViewer

router = APIRouter()
TREND_LEVELS = ("critical", "high", "medium", "low")
"""Severities drawn in the findings trend (the lower ones would flatten the scale)."""


def charts(p: Posture, alerts: AlertSummary, days: list[Day]) -> dict[str, Markup]:
    """The overview's SVG charts."""
    labels = [d.day[5:] for d in days]
    scores = [d.score for d in days]
    last = next((s for s in reversed(scores) if s is not None), None)
    return {
        "severity": bar_chart("chart-vulns", "Open vulnerabilities by severity",
                              [Bar(level.capitalize(), level, p.open_by_level[level]) for level in p.open_by_level]),
        "alert_severity": bar_chart("chart-alert-sev", "Alerts of the last 24 hours by severity",
                                    [Bar(s.capitalize(), s, n) for s, n in alerts.by_severity.items()]),
        "alert_tactic": bar_chart("chart-alert-tactic", "Alerts of the last 24 hours by MITRE ATT&CK tactic",
                                  [Bar(t or "(no tactic)", "tactic", n) for t, n in alerts.by_tactic[:10]]),
        "score": line_chart("chart-score", "Secure score, last 30 days", labels,
                            [Series("Secure score", "score", scores)], percent=True, area=True,
                            desc=f"Secure score per day; latest {last:.0f}%." if last is not None
                            else "No resource had a verdict in the last 30 days."),
        "findings": line_chart("chart-findings", "Open vulnerabilities by severity, last 30 days", labels,
                               [Series(level.capitalize(), level, [d.open_by_level[level] for d in days])
                                for level in TREND_LEVELS],
                               desc="Open vulnerabilities per day for critical, high, medium and low severity."),
        "alerts": column_chart("chart-alerts", "New alerts per day, last 30 days", labels, [d.alerts for d in days],
                               desc=f"Alerts first seen per day; {sum(d.alerts for d in days)} in 30 days."),
    }


@router.get("/")
def overview(request: Request, viewer: WebViewer, ctx: Ctx) -> Response:
    """The overview."""
    now = datetime.now(UTC)
    with ctx.store.session() as s:
        p = posture(s)
        alerts = recent_alerts(s, now)
        days = trend(s, now, live=refresh(s, p, now))
    server_url = ctx.config.public_url or str(request.base_url).rstrip("/")
    return render(request, "overview.html", viewer, title="Overview", p=p, alerts=alerts, days=days,
                  charts=charts(p, alerts, days), reconstructed=[d for d in days if d.source == HISTORY],
                  server_url=server_url, webhook_url=f"{server_url}{WEBHOOK_PATH}")
