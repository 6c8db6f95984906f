"""The report's charts as SVG strings, for the panel to place on its pages."""

from __future__ import annotations

from appliance.stats.report import WEEKDAYS, Report
from appliance.stats.svg import bar_chart_svg, heatmap_svg, trend_svg


def heatmap_chart(rep: Report) -> str:
    """Calls offered by hour of day and weekday, in office time."""
    return heatmap_svg(rep.heatmap, WEEKDAYS, f"Calls by hour and weekday ({rep.tz})")


def queue_chart(rep: Report) -> str:
    """Per queue: answered, abandoned and other outcomes, stacked."""
    names = list(rep.queues)
    m = [rep.queues[n] for n in names]
    return bar_chart_svg("Calls by queue", names, [
        ("answered", [q.answered for q in m]), ("abandoned", [q.abandoned for q in m]),
        ("timed out / other", [q.timed_out + q.waiting for q in m])])


def operator_chart(rep: Report) -> str:
    """Per operator: calls answered and offers missed."""
    names = list(rep.operators)
    m = [rep.operators[n] for n in names]
    return bar_chart_svg("Calls by operator", names, [
        ("answered", [o.answered for o in m]), ("missed offers", [o.missed_offers for o in m])])


def occupancy_chart(rep: Report) -> str:
    """Per operator: occupancy in per cent (norm 80-85 %)."""
    names = [n for n, o in rep.operators.items() if o.occupancy is not None]
    values = [100 * (rep.operators[n].occupancy or 0.0) for n in names]
    return bar_chart_svg("Operator occupancy", names, [("occupancy", values)], unit=" %", full=100.0)


def carrier_chart(rep: Report) -> str:
    """Per trunk: calls in and out."""
    names = list(rep.carriers)
    m = [rep.carriers[n] for n in names]
    return bar_chart_svg("Calls by carrier", names, [
        ("inbound", [c.calls_in for c in m]), ("outbound", [c.calls_out for c in m])])


def trend_chart(rep: Report) -> str:
    """Per day: answered, abandoned and offered."""
    days = [day for day, _ in rep.daily]
    # Series in palette order, so answered is blue and abandoned orange as in the bar charts.
    return trend_svg("Calls per day", days, [
        ("answered", [m.answered for _, m in rep.daily]), ("abandoned", [m.abandoned for _, m in rep.daily]),
        ("offered", [m.offered for _, m in rep.daily])])


def service_level_chart(rep: Report) -> str:
    """Per day: service level in per cent (days without answered calls have no dot)."""
    days = [day for day, _ in rep.daily]
    values = [None if m.sl is None else 100 * m.sl for _, m in rep.daily]
    return trend_svg(f"Service level, answered within {rep.thresholds.service_level_s} s", days,
                     [("SL", values)], unit=" %")
