"""The incident journal: filter by kind, state, period and text; CSV export; close a reported problem."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from appliance.forms import FieldErrors
from appliance.reports import IncidentQuery, Page
from appliance.reports.incidents import KINDS
from appliance.reports.query import params
from web.deps import AdminDep
from web.render import render
from web.security import principal_of, requires


@get("/incidents", guards=[requires("incidents")], include_in_schema=False)
async def incidents(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """The incident journal (the results alone for htmx)."""
    errors: dict[str, str] = {}
    try:
        query = IncidentQuery.parse(dict(request.query_params))
        page = await admin.incidents.search(query, await admin.system.timezone())
    except FieldErrors as err:
        query, errors, page = IncidentQuery(), err.errors, Page([], 0, 1, 50)
    return await render(request, "incidents.html", partial="results", page=page, errors=errors, kinds=KINDS,
                        filters=params(query, IncidentQuery.FIELDS), title="Incidents")


@get("/incidents.csv", guards=[requires("incidents")], include_in_schema=False)
async def incidents_csv(request: Request[Any, Any, Any], admin: AdminDep) -> Stream:
    """The filtered incidents as a CSV download."""
    query = IncidentQuery.parse(dict(request.query_params))
    return Stream(admin.incidents.export(query, await admin.system.timezone()),
                  media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": 'attachment; filename="incidents.csv"'})


@post("/incidents/{incident_id:int}/close", guards=[requires("incidents")], include_in_schema=False)
async def close(request: Request[Any, Any, Any], admin: AdminDep, incident_id: FromPath[int]) -> Response[Any]:
    """Close an incident by hand (e.g. a reported problem that was dealt with)."""
    principal = principal_of(request)
    await admin.incidents.close(incident_id, principal.name if principal else "?")
    return Redirect(request.headers.get("referer") or "/incidents", status_code=303)


ROUTES = [incidents, incidents_csv, close]
