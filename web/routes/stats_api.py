"""`/api/v1/stats` (JSON), `/api/v1/stats/csv/<table>`, `/api/v1/stats/svg/<chart>`, `/api/v1/sync`.

Periods: `start` and `end` as ISO dates (midnight in the office time zone) or datetimes, `end`
exclusive; by default today. `tz` overrides the office time zone kept by the panel. `queue`,
`operator`, `trunk` narrow the report; `sl` and `short_abandon` set the thresholds in seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery

from appliance.daemon import Services
from appliance.stats import Report, Scope, Thresholds, as_dict, charts, export, run_report, source
from web.security import requires

# Auth: every /api/v1 route sits behind the API-token middleware of the auth work; these
# handlers should also take its role guard: "reports" for /api/v1/stats..., "status" for
# /api/v1/sync (e.g. guards=[requires("reports")] from web.security).

MAX_DAYS = 731
CSV = {"queues": export.queues_csv, "operators": export.operators_csv, "carriers": export.carriers_csv,
       "daily": export.daily_csv, "heatmap": export.heatmap_csv}
SVG = {"heatmap": charts.heatmap_chart, "queues": charts.queue_chart, "operators": charts.operator_chart,
       "occupancy": charts.occupancy_chart, "carriers": charts.carrier_chart, "trend": charts.trend_chart,
       "service-level": charts.service_level_chart}


def _moment(text: str, tz: ZoneInfo, name: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tz)
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValidationException(f"{name} must be an ISO date or datetime, not {text!r}") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValidationException(f"unknown time zone {name!r}") from err


def _stored_zone(path: Path) -> str:
    with source.reader(path) as conn:
        return source.stored_timezone(conn)


@dataclasses.dataclass(frozen=True)
class Period:
    """What a report request asks for, validated."""

    path: Path
    scope: Scope
    zone: ZoneInfo
    thresholds: Thresholds


async def period(services: NamedDependency[Services], start: FromQuery[str | None] = None,
                 end: FromQuery[str | None] = None, tz: FromQuery[str | None] = None,
                 queue: FromQuery[str | None] = None, operator: FromQuery[str | None] = None,
                 trunk: FromQuery[str | None] = None, sl: FromQuery[int] = 20,
                 short_abandon: FromQuery[int] = 5) -> Period:
    """The period and filters of a report request (shared by every /api/v1/stats route)."""
    path = services.settings.data.database_path
    name = tz if tz else await asyncio.to_thread(_stored_zone, path)
    zone = _zone(name)
    today = datetime.combine(datetime.now(zone).date(), time(), zone)
    first = _moment(start, zone, "start") if start else today
    last = _moment(end, zone, "end") if end else first + timedelta(days=1)
    if not first < last <= first + timedelta(days=MAX_DAYS):
        raise ValidationException(f"end must be after start, and at most {MAX_DAYS} days after it")
    if not (0 <= sl <= 3600 and 0 <= short_abandon <= 3600):
        raise ValidationException("sl and short_abandon are seconds between 0 and 3600")
    return Period(path, Scope(first, last, queue, operator, trunk), zone, Thresholds(sl, short_abandon))


REPORT = {"period": Provide(period)}


async def report_of(p: Period) -> Report:
    """The report of a period, computed off the event loop (`appliance.stats.run_report`)."""
    return await run_report(p.path, p.scope, p.zone, p.thresholds)


@get("/api/v1/stats", dependencies=REPORT, guards=[requires("reports")])
async def stats(period: NamedDependency[Period]) -> dict[str, Any]:
    """Every metric of a period: totals, per queue, operator, carrier, uplink; callbacks; heat map; days."""
    return as_dict(await report_of(period))


@get("/api/v1/stats/csv/{table:str}", dependencies=REPORT, guards=[requires("reports")])
async def stats_csv(period: NamedDependency[Period], table: FromPath[str]) -> Response[bytes]:
    """A report table (queues, operators, carriers, daily, heatmap) or the call records, as CSV."""
    if table not in CSV and table != "calls":
        raise NotFoundException(f"no table {table!r}: one of {', '.join([*CSV, 'calls'])}")
    if table == "calls":
        text = await asyncio.to_thread(export.calls_csv, period.path, period.scope, period.zone)
    else:
        text = CSV[table](await report_of(period))
    name = f"callbox-{table}-{period.scope.start.date()}-{period.scope.end.date()}.csv"
    # UTF-8 with a byte-order mark: spreadsheet programs then read Cyrillic names correctly.
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/api/v1/stats/svg/{chart:str}", dependencies=REPORT, guards=[requires("reports")])
async def stats_chart(period: NamedDependency[Period], chart: FromPath[str]) -> Response[str]:
    """A report chart as SVG (heatmap, queues, operators, occupancy, carriers, trend, service-level)."""
    if chart not in SVG:
        raise NotFoundException(f"no chart {chart!r}: one of {', '.join(SVG)}")
    return Response(SVG[chart](await report_of(period)), media_type="image/svg+xml")


@get("/api/v1/sync", guards=[requires("status")])
async def sync_state(services: NamedDependency[Services]) -> dict[str, Any]:
    """Cloud sync: enabled, endpoint, backlog, last success, last error, next attempt."""
    if services.cloud is None:
        return {"enabled": False}
    return await services.cloud.status()


ROUTES = [stats, stats_csv, stats_chart, sync_state]
