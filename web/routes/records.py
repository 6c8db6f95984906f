"""Call records: filter by period, number, queue, operator and outcome; CSV export."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.response import Stream

from appliance.forms import FieldErrors
from appliance.reports import CallQuery, Page
from appliance.reports.calls import DISPOSITIONS
from appliance.reports.query import params
from appliance.storage import Queue
from web.deps import AdminDep
from web.render import render
from web.security import requires


@get("/records", guards=[requires("reports")], include_in_schema=False)
async def records(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """The call records page (the results alone for htmx)."""
    errors: dict[str, str] = {}
    try:
        query = CallQuery.parse(dict(request.query_params))
        page = await admin.calls.search(query, await admin.system.timezone())
    except FieldErrors as err:
        query, errors, page = CallQuery(), err.errors, Page([], 0, 1, 50)
    filters = params(query, CallQuery.FIELDS)
    return await render(request, "records.html", partial="results", query=query, page=page, errors=errors,
                        filters=filters, dispositions=DISPOSITIONS, title="Call records",
                        queues=await Queue.all().order_by("name").values_list("name", flat=True))


@get("/records.csv", guards=[requires("reports")], include_in_schema=False)
async def records_csv(request: Request[Any, Any, Any], admin: AdminDep) -> Stream:
    """The filtered call records as a CSV download."""
    query = CallQuery.parse(dict(request.query_params))
    return Stream(admin.calls.export(query, await admin.system.timezone()), media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": 'attachment; filename="call-records.csv"'})


ROUTES = [records, records_csv]
