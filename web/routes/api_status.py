"""`/api/v1/status`, `/api/v1/checks`, `/api/v1/problems`: live state, the checklist, problem reports."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.status_codes import HTTP_201_CREATED

from web.deps import AdminDep, ServicesDep
from web.routes.dashboard import live_state
from web.security import principal_of, requires


@dataclasses.dataclass
class CheckOut:
    """One line of the "What is broken?" checklist."""

    kind: str
    subject: str
    state: str
    summary: str
    since: datetime | None
    action: str


@dataclasses.dataclass
class ProblemIn:
    """A problem report: what the person saw (optional)."""

    text: str = ""


@dataclasses.dataclass
class ProblemOut:
    """The incident the report was saved as."""

    incident_id: int
    cause: str


@get("/api/v1/status", guards=[requires("dashboard")], tags=["status"])
async def status(services: ServicesDep, admin: AdminDep) -> dict[str, Any]:
    """What the dashboard shows: engine, uplinks, trunks, operators, queues, calls in progress."""
    state = await live_state(services, admin)
    state["engine"] = dataclasses.asdict(state["engine"])
    state["active_calls"] = [{"id": c.id, "caller": c.caller, "did": c.did, "queue": c.queue,
                              "operator": c.operator, "started_at": c.started_at.isoformat()}
                             for c in state["active_calls"]]
    return state


@get("/api/v1/checks", guards=[requires("status")], tags=["status"])
async def checks(admin: AdminDep) -> list[CheckOut]:
    """The checklist as the monitors see it."""
    return [CheckOut(**dataclasses.asdict(c)) for c in await admin.checks.run()]


@post("/api/v1/checks/run", guards=[requires("status")], tags=["status"])
async def run_checks(admin: AdminDep) -> list[CheckOut]:
    """Measure again now, then the checklist."""
    return [CheckOut(**dataclasses.asdict(c)) for c in await admin.checks.run(measure=True)]


@post("/api/v1/problems", guards=[requires("report")], tags=["status"], status_code=HTTP_201_CREATED)
async def report_problem(request: Request[Any, Any, Any], admin: AdminDep, data: ProblemIn) -> ProblemOut:
    """Capture the state of everything into the incident journal."""
    principal = principal_of(request)
    incident = await admin.checks.report(principal.name if principal else "?", data.text)
    return ProblemOut(incident.id, incident.cause)


ROUTES = [status, checks, run_checks, report_problem]
