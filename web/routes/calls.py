"""`/api/v1/calls`: an operator's outbound call (click-to-call) with carrier failover, and its progress.

POST rings the operator's seat; when they answer, the number is dialled through the matching
outbound route, trunk after trunk, and the two legs are bridged. The answer comes at once (201)
with the call's id; GET shows its state, result and every trunk attempt with timings.

Auth: every /api/v1 route sits behind the API guard (`web.security.AuthMiddleware`: a bearer
token, or a signed-in session); these handlers add their area guards. An operator may only place
calls from their own extension.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar import Request, Router, delete, get, post
from litestar.exceptions import PermissionDeniedException, ServiceUnavailableException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from appliance.routing import RoutingService
from appliance.storage import Operator
from web.deps import ServicesDep
from web.security import principal_of, requires


@dataclasses.dataclass
class CallIn:
    """Who calls whom: the operator's extension and the number to dial."""

    from_operator: str
    number: str


def _routing(services: Any) -> RoutingService:
    routing = getattr(services, "routing", None)
    if routing is None:
        raise ServiceUnavailableException("outbound calls are not available (routing is not running)")
    return routing  # type: ignore[no-any-return]


async def _check_own(request: Request[Any, Any, Any], extension: str) -> None:
    principal = principal_of(request)
    if principal is None or principal.role != "operator":
        return
    own = await Operator.get_or_none(id=principal.operator_id) if principal.operator_id else None
    if own is None or own.extension != extension:
        raise PermissionDeniedException("Operators place calls from their own extension only.")


@post("/", guards=[requires("own")], status_code=HTTP_201_CREATED)
async def place_call(request: Request[Any, Any, Any], services: ServicesDep,
                     data: JSONBody[CallIn]) -> dict[str, Any]:
    """Ring the operator, then dial the number with carrier failover and bridge the two."""
    await _check_own(request, data.from_operator)
    call = await _routing(services).calls.originate(data.from_operator, data.number)
    return call.view()


@get("/", guards=[requires("status")], sync_to_thread=False)
def list_calls(services: ServicesDep) -> list[dict[str, Any]]:
    """The latest outbound calls, newest first."""
    return [call.view() for call in _routing(services).calls.recent()]


@get("/{call_id:str}", guards=[requires("own")], sync_to_thread=False)
def get_call(services: ServicesDep, call_id: FromPath[str]) -> dict[str, Any]:
    """One outbound call: state, result, the trunks tried."""
    return _routing(services).calls.get(call_id).view()


@delete("/{call_id:str}", guards=[requires("own")], status_code=202, sync_to_thread=False)
def hang_up(services: ServicesDep, call_id: FromPath[str]) -> dict[str, Any]:
    """End the call in whatever state it is."""
    calls = _routing(services).calls
    calls.hangup(call_id)
    return calls.get(call_id).view()


ROUTES = [Router("/api/v1/calls", tags=["calls"], route_handlers=[place_call, list_calls, get_call, hang_up])]
