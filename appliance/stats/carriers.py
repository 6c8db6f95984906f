"""Carrier usage and failovers from call records and events; downtime from the incident journal."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from appliance.stats.events import FAILOVER
from appliance.stats.intervals import clip, total, union
from appliance.stats.source import CallRow, Event, IncidentRow


@dataclasses.dataclass
class CarrierMetrics:
    """One trunk's calls over a period."""

    calls_in: int = 0
    calls_out: int = 0
    connected: int = 0  # calls that reached an operator or the callee
    talk_s: float = 0.0
    failovers_from: int = 0  # outbound attempts that left this trunk for the next one
    failovers_to: int = 0  # outbound attempts this trunk took over
    down_s: float = 0.0  # time with an open 'trunk' incident
    incidents: int = 0


@dataclasses.dataclass
class Downtime:
    """Time a monitored thing spent down within a period."""

    incidents: int = 0  # incidents that started in the period
    down_s: float = 0.0


def downtime(rows: Iterable[IncidentRow], kind: str, start: float, end: float, now: float) -> dict[str, Downtime]:
    """Per subject of `kind`: incidents started in [start, end) and time down within it."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    found: dict[str, Downtime] = {}
    for row in rows:
        if row.kind != kind:
            continue
        item = found.setdefault(row.subject, Downtime())
        item.incidents += start <= row.started < end
        spans[row.subject].append((row.started, row.ended if row.ended is not None else now))
    for subject, item in found.items():
        item.down_s = total(clip(union(spans[subject]), start, end))
    return found


def carrier_metrics(calls: Iterable[CallRow], events: Iterable[Event], incidents: Iterable[IncidentRow],
                    start: float, end: float, now: float) -> dict[str, CarrierMetrics]:
    """Per trunk: calls in and out, connected, talk time, failovers and downtime."""
    found: dict[str, CarrierMetrics] = defaultdict(CarrierMetrics)
    for call in calls:
        if not call.trunk:
            continue
        item = found[call.trunk]
        if call.direction == "out":
            item.calls_out += 1
        else:
            item.calls_in += 1
        item.connected += call.connected
        item.talk_s += call.talk_s
    for ev in events:
        if ev.event == FAILOVER and start <= ev.t < end:
            found[ev.data[0]].failovers_from += 1
            found[ev.data[1]].failovers_to += 1
    for subject, down in downtime(incidents, "trunk", start, end, now).items():
        found[subject].down_s, found[subject].incidents = down.down_s, down.incidents
    found.pop("", None)
    return dict(found)
