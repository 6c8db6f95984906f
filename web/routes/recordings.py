"""Recordings page: search by period, number and operator; plays and downloads through recordings_api."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from appliance.forms import FieldErrors
from appliance.reports import Page, RecordingQuery
from appliance.reports.query import params
from web.deps import AdminDep
from web.render import render
from web.security import requires


@get("/recordings", guards=[requires("recordings")], include_in_schema=False)
async def recordings(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """The recordings page (the results alone for htmx)."""
    errors: dict[str, str] = {}
    try:
        query = RecordingQuery.parse(dict(request.query_params))
        page = await admin.recordings.search(query, await admin.system.timezone())
    except FieldErrors as err:
        query, errors, page = RecordingQuery(), err.errors, Page([], 0, 1, 50)
    return await render(request, "recordings.html", partial="results", page=page, errors=errors,
                        filters=params(query, RecordingQuery.FIELDS), title="Recordings")


# Playing (`/recordings/{id}/stream`, with HTTP Range for seeking) and downloading
# (`/recordings/{id}/file`) are served by web/routes/recordings_api.py, which logs every access.


ROUTES = [recordings]
