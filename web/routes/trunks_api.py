"""`/api/v1/trunks`: carriers' live state and statistics, and the carrier self-test matrix.

Auth: behind the API guard of every /api/v1 route (`web.security.AuthMiddleware`), plus area
guards: watching needs "status", starting a self-test "config".
"""

from __future__ import annotations

from typing import Any

from litestar import Router, get, post
from litestar.exceptions import ServiceUnavailableException
from litestar.status_codes import HTTP_202_ACCEPTED

from appliance.routing import RoutingService
from web.deps import ServicesDep
from web.security import requires


def _routing(services: Any) -> RoutingService:
    routing = getattr(services, "routing", None)
    if routing is None:
        raise ServiceUnavailableException("the self-test is not available (routing is not running)")
    return routing  # type: ignore[no-any-return]


@get("/", guards=[requires("status")], sync_to_thread=False)
def trunk_states(services: ServicesDep) -> list[dict[str, Any]]:
    """Every enabled trunk: up/degraded/down since when and why, registration, probes, channels, call counts."""
    return services.trunks.status()


@get("/selftest", guards=[requires("status")])
async def selftest_matrix(services: ServicesDep) -> dict[str, Any]:
    """The latest self-test run: pass/fail and setup time per carrier pair; `running` while one runs."""
    return await _routing(services).selftest.matrix()


@post("/selftest", guards=[requires("config")], status_code=HTTP_202_ACCEPTED)
async def run_selftest(services: ServicesDep) -> dict[str, Any]:
    """Start a self-test run now (400 when one runs already or there is nothing to test)."""
    return {"run_id": await _routing(services).selftest.start_run(), "running": True}


ROUTES = [Router("/api/v1/trunks", tags=["trunks"], route_handlers=[trunk_states, selftest_matrix, run_selftest])]
