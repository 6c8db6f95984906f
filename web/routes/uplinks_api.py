"""`/api/v1/uplinks`: uplink state, per-uplink latency and loss, the active uplink and recent switches."""

from __future__ import annotations

from typing import Any

from litestar import get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from appliance.daemon import Services
from appliance.errors import UserError
from appliance.uplinks.config import save_uplinks
from web.security import requires

# Auth: web.security's middleware refuses /api/ without a bearer token; the guard limits the
# route to roles that may see the box's status (admins and supervisors).


@get("/api/v1/uplinks", sync_to_thread=False, guards=[requires("status")])
def uplinks(services: NamedDependency[Services]) -> dict[str, Any]:
    """Every uplink with its health, address, latency and loss; which one is active; the last switches."""
    if services.uplinks is None:
        return {"active": None, "failover": False, "uplinks": [], "switches": []}
    return services.uplinks.status()


@put("/api/v1/uplinks", guards=[requires("config")])
async def replace_uplinks(services: NamedDependency[Services], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """Replace the uplinks (admins only) and restart their monitoring; answers the new status.

    Body: {"uplinks": [{"name", "interface", "gateway" (empty: DHCP's), "priority" (lower first),
    "probe_targets" ("icmp:IP tcp:IP:PORT sip:IP:PORT"), "ip_trunks", "public_address", "enabled"}]}.
    """
    if services.uplinks is None:
        raise UserError("the uplink service is not running")
    await save_uplinks(data)
    await services.uplinks.reload()
    return services.uplinks.status()


ROUTES = [uplinks, replace_uplinks]
