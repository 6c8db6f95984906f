"""Recordings: search by period, number and operator; play in the browser; download."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import File

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


def _file(path: Any, name: str, download: bool) -> File:
    return File(path, filename=name, media_type="audio/wav",
                content_disposition_type="attachment" if download else "inline")


@get("/recordings/{recording_id:int}/audio", guards=[requires("recordings")], include_in_schema=False)
async def play(admin: AdminDep, recording_id: FromPath[int]) -> File:
    """The recording for the browser's player."""
    recording, path = await admin.recordings.file(recording_id)
    return _file(path, f"call-{recording.call_id}.wav", download=False)


@get("/recordings/{recording_id:int}/download", guards=[requires("recordings")], include_in_schema=False)
async def download(admin: AdminDep, recording_id: FromPath[int]) -> File:
    """The recording as a file to save."""
    recording, path = await admin.recordings.file(recording_id)
    return _file(path, f"call-{recording.call_id}.wav", download=True)


ROUTES = [recordings, play, download]
