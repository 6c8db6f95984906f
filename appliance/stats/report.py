"""A report over a period: queue, operator, carrier, callback and uplink metrics, heat map, days.

Periods longer than a month are computed month by month (office time) and merged: every metric
keeps its raw sums, so the parts add up exactly, and memory stays that of one month of events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance.stats import source
from appliance.stats.callbacks import CallbackMetrics, callback_metrics
from appliance.stats.calls import CallMetrics, Thresholds, Visit, call_metrics, combine_calls, visits
from appliance.stats.carriers import CarrierMetrics, Downtime, carrier_metrics, downtime
from appliance.stats.events import (
    CALLBACK_LOOKAHEAD_S,
    CALLBACKATTEMPT,
    CALLBACKREQ,
    CHUNK_DAYS,
    LOGINS,
    LOOKAHEAD_S,
    PAUSES,
)
from appliance.stats.operators import (
    OperatorMetrics,
    Timeline,
    combine_operators,
    operator_metrics,
    timelines,
    wrap_pieces,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclasses.dataclass(frozen=True)
class Scope:
    """What a report covers: [start, end) and, optionally, one queue, operator or trunk."""

    start: datetime
    end: datetime
    queue: str | None = None
    operator: str | None = None
    trunk: str | None = None


@dataclasses.dataclass(frozen=True)
class Report:
    """Every metric of a period, ready for the panel, the API, CSV and charts."""

    scope: Scope
    tz: str
    thresholds: Thresholds
    total: CallMetrics
    queues: dict[str, CallMetrics]
    operators: dict[str, OperatorMetrics]
    carriers: dict[str, CarrierMetrics]
    uplinks: dict[str, Downtime]
    callbacks: CallbackMetrics
    heatmap: list[list[int]]  # [weekday, Monday first][hour]: calls offered, office time
    daily: list[tuple[date, CallMetrics]]  # every office-time day of the period


def build(path: Path, scope: Scope, tz: ZoneInfo, th: Thresholds | None = None,
          now: float | None = None) -> Report:
    """Read the database at `path` and compute the report (blocking: run it in a thread)."""
    th = th or Thresholds()
    now = time.time() if now is None else now
    ahead = timedelta(seconds=CALLBACK_LOOKAHEAD_S)
    with source.reader(path) as conn:
        names = source.operator_names(conn)
        before = source.states_before(conn, scope.start)
        parts = []
        for piece in chunks(scope, tz):
            part, before = _part(conn, piece, before, names, tz, th, now)
            parts.append(part)
        wanted = source.events(conn, scope.start, scope.end + ahead, (CALLBACKREQ, CALLBACKATTEMPT))
    callbacks = callback_metrics(wanted, scope.start.timestamp(), scope.end.timestamp())
    return _merge(scope, tz.key, th, parts, callbacks)


async def run_report(path: Path, scope: Scope, tz: ZoneInfo, th: Thresholds | None = None) -> Report:
    """`build` in a worker thread, so the event loop (and the calls) never wait for a report."""
    return await asyncio.to_thread(build, path, scope, tz, th)


def chunks(scope: Scope, tz: ZoneInfo) -> list[Scope]:
    """The period cut at office-time month starts when it is longer than CHUNK_DAYS."""
    if scope.end - scope.start <= timedelta(days=CHUNK_DAYS):
        return [scope]
    cuts, local = [scope.start], scope.start.astimezone(tz)
    month = datetime(local.year, local.month, 1, tzinfo=tz)
    while True:
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
        if month >= scope.end:
            break
        cuts.append(month)
    cuts.append(scope.end)
    return [dataclasses.replace(scope, start=a, end=b) for a, b in pairwise(cuts)]


def _part(conn: sqlite3.Connection, piece: Scope, before: dict[tuple[str, str], source.Event], names: list[str],
          tz: ZoneInfo, th: Thresholds, now: float) -> tuple[Report, dict[tuple[str, str], source.Event]]:
    """The report of one chunk, and the operators' states where it ends (for the next chunk)."""
    ahead = timedelta(seconds=LOOKAHEAD_S)
    events = source.events(conn, piece.start, piece.end + ahead)
    trunks = source.call_trunks(conn, piece.start - ahead, piece.end)
    calls = source.calls(conn, piece.start, piece.end)
    incidents = source.incidents(conn, piece.start, piece.end)
    start, end = piece.start.timestamp(), piece.end.timestamp()
    lines = timelines(events, before, start, end, min(end + LOOKAHEAD_S, now), names)
    chosen = _scoped(visits(events, start, end), piece, trunks)
    _attribute_wrap_up(chosen, lines)
    part = Report(
        piece, tz.key, th, call_metrics(chosen, th), _by_queue(chosen, th),
        _operators(lines, chosen, names, piece, th, start, end),
        {k: v for k, v in carrier_metrics(calls, events, incidents, start, end, now).items()
         if piece.trunk in (None, k)},
        downtime(incidents, "uplink", start, end, now), callback_metrics([], start, end),
        _heatmap(chosen, tz), _daily(chosen, piece, tz, th))
    return part, _carry(before, events, end)


def _carry(before: dict[tuple[str, str], source.Event], events: list[source.Event],
           end: float) -> dict[tuple[str, str], source.Event]:
    state = dict(before)
    for ev in events:
        if ev.t < end and ev.agent:
            if ev.event in PAUSES:
                state[(ev.agent, "pause")] = ev
            elif ev.event in LOGINS:
                state[(ev.agent, "login")] = ev
    return state


def _merge(scope: Scope, tz: str, th: Thresholds, parts: list[Report], callbacks: CallbackMetrics) -> Report:
    if len(parts) == 1:
        return dataclasses.replace(parts[0], scope=scope, callbacks=callbacks)
    queues: dict[str, list[CallMetrics]] = defaultdict(list)
    operators: dict[str, list[OperatorMetrics]] = defaultdict(list)
    for part in parts:
        for name, metrics in part.queues.items():
            queues[name].append(metrics)
        for name, op in part.operators.items():
            operators[name].append(op)
    return Report(
        scope, tz, th, combine_calls(p.total for p in parts),
        {name: combine_calls(items) for name, items in sorted(queues.items())},
        {name: combine_operators(items) for name, items in sorted(operators.items())},
        _sum_each([p.carriers for p in parts], CarrierMetrics), _sum_each([p.uplinks for p in parts], Downtime),
        callbacks, [[sum(cells) for cells in zip(*rows, strict=True)] for rows in zip(*(p.heatmap for p in parts),
                                                                                     strict=True)],
        [row for p in parts for row in p.daily])


def _sum_each(maps: list[dict[str, Any]], kind: type[Any]) -> dict[str, Any]:
    """Per key, a dataclass whose every field is the sum over the maps."""
    found: dict[str, Any] = {}
    for mapping in maps:
        for key, item in mapping.items():
            acc = found.setdefault(key, kind())
            for field in dataclasses.fields(kind):
                setattr(acc, field.name, getattr(acc, field.name) + getattr(item, field.name))
    return dict(sorted(found.items()))


def _scoped(found: list[Visit], scope: Scope, trunks: dict[str, str]) -> list[Visit]:
    for visit in found:
        visit.trunk = trunks.get(visit.call_id, "")
    return [v for v in found if scope.queue in (None, v.queue) and scope.trunk in (None, v.trunk)
            and scope.operator in (None, v.agent)]


def _attribute_wrap_up(found: list[Visit], lines: dict[str, Timeline]) -> None:
    wrap: dict[tuple[str, str], float] = defaultdict(float)
    for agent, line in lines.items():
        for (a, b), call in wrap_pieces(line):
            wrap[(agent, call)] += b - a
    for visit in found:
        visit.wrap_s = wrap.get((visit.agent, visit.call_id), 0.0)


def _by_queue(found: list[Visit], th: Thresholds) -> dict[str, CallMetrics]:
    groups: dict[str, list[Visit]] = defaultdict(list)
    for visit in found:
        groups[visit.queue].append(visit)
    return {name: call_metrics(group, th) for name, group in sorted(groups.items())}


def _operators(lines: dict[str, Timeline], found: list[Visit], names: list[str], scope: Scope,
               th: Thresholds, start: float, end: float) -> dict[str, OperatorMetrics]:
    own: dict[str, list[Visit]] = defaultdict(list)
    for visit in found:
        if visit.agent:
            own[visit.agent].append(visit)
    agents = sorted(set(names) | set(lines)) if scope.operator is None else [scope.operator]
    return {agent: operator_metrics(lines.get(agent) or Timeline(), own[agent], th, start, end)
            for agent in agents}


def _heatmap(found: list[Visit], tz: ZoneInfo) -> list[list[int]]:
    grid = [[0] * 24 for _ in WEEKDAYS]
    for visit in found:
        local = datetime.fromtimestamp(visit.entered, tz)
        grid[local.weekday()][local.hour] += 1
    return grid


def _daily(found: list[Visit], scope: Scope, tz: ZoneInfo, th: Thresholds) -> list[tuple[date, CallMetrics]]:
    groups: dict[date, list[Visit]] = defaultdict(list)
    for visit in found:
        groups[datetime.fromtimestamp(visit.entered, tz).date()].append(visit)
    first = scope.start.astimezone(tz).date()
    last = (scope.end - timedelta(microseconds=1)).astimezone(tz).date()
    days = [first + timedelta(days=n) for n in range(max((last - first).days + 1, 0))]
    return [(day, call_metrics(groups.get(day, []), th)) for day in days]


def as_dict(rep: Report) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "start": rep.scope.start.isoformat(), "end": rep.scope.end.isoformat(), "tz": rep.tz,
        "queue": rep.scope.queue, "operator": rep.scope.operator, "trunk": rep.scope.trunk,
        "thresholds": dataclasses.asdict(rep.thresholds), "total": dataclasses.asdict(rep.total),
        "queues": {k: dataclasses.asdict(v) for k, v in rep.queues.items()},
        "operators": {k: dataclasses.asdict(v) for k, v in rep.operators.items()},
        "carriers": {k: dataclasses.asdict(v) for k, v in rep.carriers.items()},
        "uplinks": {k: dataclasses.asdict(v) for k, v in rep.uplinks.items()},
        "callbacks": dataclasses.asdict(rep.callbacks),
        "heatmap": {"weekdays": list(WEEKDAYS), "hours": list(range(24)), "offered": rep.heatmap},
        "daily": [{"day": day.isoformat(), **dataclasses.asdict(m)} for day, m in rep.daily],
    }
