"""`/api/v1/records`, `/api/v1/incidents`, `/api/v1/recordings`: the reports, filtered, as JSON or CSV."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, TypeVar

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from appliance.reports import CallQuery, IncidentQuery, RecordingQuery
from web.deps import AdminDep
from web.security import principal_of, requires

T = TypeVar("T")


@dataclasses.dataclass
class CallOut:
    """One call record."""

    id: str
    started_at: datetime
    caller: str
    did: str
    trunk: str
    queue: str
    operator: str
    disposition: str
    hangup_cause: str
    hold_s: float | None
    talk_s: float | None
    answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None


@dataclasses.dataclass
class IncidentOut:
    """One incident."""

    id: int
    kind: str
    subject: str
    severity: str
    started_at: datetime
    ended_at: datetime | None
    cause: str
    action: str


@dataclasses.dataclass
class RecordingOut:
    """One recording and its call."""

    id: int
    call_id: str
    caller: str
    did: str
    operator: str
    started_at: datetime
    duration_s: float
    size_bytes: int
    sha256: str
    audio_url: str


@dataclasses.dataclass
class Paged:
    """A page of results."""

    items: list[Any]
    total: int
    page: int
    pages: int


def _pick(kind: type[T], row: Any) -> T:
    return kind(**{f.name: getattr(row, f.name) for f in dataclasses.fields(kind)})  # type: ignore[arg-type]


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return dict(request.query_params)


@get("/records")
async def records(request: Request[Any, Any, Any], admin: AdminDep, since: FromQuery[str | None] = None,
                  until: FromQuery[str | None] = None, number: FromQuery[str | None] = None,
                  queue: FromQuery[str | None] = None, operator: FromQuery[str | None] = None,
                  disposition: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Paged:
    """Call records, newest first; dates are YYYY-MM-DD in the office's time zone."""
    result = await admin.calls.search(CallQuery.parse(_query(request)), await admin.system.timezone())
    return Paged([_pick(CallOut, r) for r in result.items], result.total, result.page, result.pages)


@get("/records/export", media_type="text/csv")
async def records_csv(request: Request[Any, Any, Any], admin: AdminDep) -> Stream:
    """The same filters, every matching record as CSV."""
    query = CallQuery.parse(_query(request))
    return Stream(admin.calls.export(query, await admin.system.timezone()), media_type="text/csv")


@get("/incidents", guards=[requires("incidents")])
async def incidents(request: Request[Any, Any, Any], admin: AdminDep, kind: FromQuery[str | None] = None,
                    state_: Annotated[str | None, QueryParameter(query="state")] = None,
                    since: FromQuery[str | None] = None, until: FromQuery[str | None] = None,
                    text: FromQuery[str | None] = None,
                    page: FromQuery[int] = 1) -> Paged:
    """Incidents, newest first."""
    result = await admin.incidents.search(IncidentQuery.parse(_query(request)), await admin.system.timezone())
    return Paged([_pick(IncidentOut, r) for r in result.items], result.total, result.page, result.pages)


@get("/incidents/export", guards=[requires("incidents")], media_type="text/csv")
async def incidents_csv(request: Request[Any, Any, Any], admin: AdminDep) -> Stream:
    """The same filters, every matching incident as CSV."""
    query = IncidentQuery.parse(_query(request))
    return Stream(admin.incidents.export(query, await admin.system.timezone()), media_type="text/csv")


@post("/incidents/{incident_id:int}/close", guards=[requires("incidents")])
async def close_incident(request: Request[Any, Any, Any], admin: AdminDep,
                         incident_id: FromPath[int]) -> IncidentOut:
    """Close an incident by hand."""
    principal = principal_of(request)
    return _pick(IncidentOut, await admin.incidents.close(incident_id, principal.name if principal else "?"))


@get("/recordings", guards=[requires("recordings")])
async def recordings(request: Request[Any, Any, Any], admin: AdminDep, since: FromQuery[str | None] = None,
                     until: FromQuery[str | None] = None, number: FromQuery[str | None] = None,
                     operator: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Paged:
    """Recordings with their calls, newest first."""
    result = await admin.recordings.search(RecordingQuery.parse(_query(request)), await admin.system.timezone())
    items = [RecordingOut(r.id, r.call.id, r.call.caller, r.call.did, r.call.operator, r.call.started_at,
                          r.duration_s, r.size_bytes, r.sha256, f"/api/v1/recordings/{r.id}/stream")
             for r in result.items]
    return Paged(list(items), result.total, result.page, result.pages)


# The audio itself: /api/v1/recordings/{id}/stream and .../download (recordings_api.py, access logged).


ROUTES = [Router("/api/v1/reports", tags=["reports"], guards=[requires("reports")], route_handlers=[
    records, records_csv, incidents, incidents_csv, close_incident, recordings])]
