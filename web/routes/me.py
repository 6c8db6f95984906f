"""The operator's own view: their state and seat, their missed calls, and "report a problem"."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from appliance.storage import Operator
from web.deps import AdminDep
from web.render import render
from web.security import principal_of, requires


@get("/me", guards=[requires("own")], include_in_schema=False)
async def me(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """State and missed calls of the operator this user is (the missed list alone for htmx)."""
    principal = principal_of(request)
    operator = await Operator.get_or_none(id=principal.operator_id) if principal and principal.operator_id else None
    live = admin.operators.live().get(operator.extension) if operator else None
    missed = await admin.calls.missed_for(operator.name) if operator else []
    return await render(request, "me.html", partial="missed", operator=operator, live=live, missed=missed,
                        title="My calls")


ROUTES = [me]
