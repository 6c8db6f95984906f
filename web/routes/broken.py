""""What is broken?": the box's own checklist, run on demand, and the one-click problem report."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from web.deps import AdminDep
from web.render import render
from web.security import principal_of, requires


async def _page(request: Request[Any, Any, Any], admin: Any, measure: bool, **context: Any) -> Response[Any]:
    checks = await admin.checks.run(measure=measure)
    broken = [c for c in checks if c.state in ("down", "warning")]
    return await render(request, "broken.html", partial="checks", checks=checks, broken=broken,
                        last_run=admin.checks.last_run, title="What is broken?", **context)


@get("/broken", guards=[requires("status")], include_in_schema=False)
async def broken(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """The checklist as the services see it now."""
    return await _page(request, admin, measure=False)


@post("/broken/run", guards=[requires("status")], include_in_schema=False)
async def run_checks(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Re-measure what can be measured now, then show the checklist."""
    return await _page(request, admin, measure=True)


@post("/report", guards=[requires("report")], include_in_schema=False)
async def report(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Capture the state of everything into the incident journal, with the person's words."""
    principal = principal_of(request)
    form = await request.form()
    incident = await admin.checks.report(principal.name if principal else "?", str(form.get("text") or ""))
    return await render(request, "broken.html", block="reported", incident=incident)


ROUTES = [broken, run_checks, report]
