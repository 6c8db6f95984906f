"""The Reports page: the period's key numbers, charts (server-side SVG) and CSV downloads."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath

from appliance.daemon import Services
from web.render import render
from web.routes.stats_api import REPORT, SVG, Period, period, report_of, stats_csv
from web.security import requires

CHARTS = ("heatmap", "trend", "service-level", "queues", "operators", "occupancy", "carriers")
FILTERS = ("start", "end", "queue", "operator", "trunk")


@get("/reports", guards=[requires("reports")], include_in_schema=False)
async def reports(request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Response[Any]:
    """The reports page; the period is chosen in its form (the results alone for htmx)."""
    filters = {k: request.query_params.get(k) or "" for k in FILTERS}
    try:
        chosen = await period(services, **{k: v or None for k, v in filters.items()})
    except ValidationException as err:
        return await render(request, "reports.html", partial="results", error=str(err.detail), filters=filters,
                            title="Reports", report=None, charts=[])
    report = await report_of(chosen)
    return await render(request, "reports.html", partial="results", error="", filters=filters, title="Reports",
                        report=report, charts=[SVG[name](report) for name in CHARTS])


@get("/reports/csv/{table:str}", guards=[requires("reports")], dependencies=REPORT, include_in_schema=False)
async def report_csv(period: NamedDependency[Period], table: FromPath[str]) -> Response[bytes]:
    """A report table (queues, operators, carriers, daily, heatmap) or the call records, as CSV."""
    return await stats_csv.fn(period=period, table=table)


ROUTES = [reports, report_csv]
