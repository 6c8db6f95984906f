"""Statistics: metrics from the event log, reports with SVG charts and CSV, live metrics."""

from appliance.stats.calls import CallMetrics, Thresholds
from appliance.stats.report import Report, Scope, as_dict, build, run_report

__all__ = ["CallMetrics", "Report", "Scope", "Thresholds", "as_dict", "build", "run_report"]
