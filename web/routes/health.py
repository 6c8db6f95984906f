"""`/healthz`: is the box working, in one JSON document for monitors and people."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from appliance.daemon import Services


@get("/healthz", sync_to_thread=False)
def healthz(services: NamedDependency[Services]) -> Response[dict[str, Any]]:
    """Engine state, trunks with registration state, calls and queues; 503 when the engine is down."""
    stats = services.engine.stats()
    body = {
        "status": "ok" if stats.running else "engine down",
        "engine": {"up": stats.running, "calls": stats.calls, "max_calls": stats.max_calls,
                   "bridge_ports": stats.bridge_ports, "max_bridge_ports": stats.max_bridge_ports,
                   "recorders": stats.recorders},
        "active_calls": stats.calls,
        "trunks": services.trunks.status(),
        **services.acd.snapshot(),
        "health": [tracker.as_dict() for tracker in services.health],
    }
    return Response(body, status_code=HTTP_200_OK if stats.running else HTTP_503_SERVICE_UNAVAILABLE)

ROUTES = [healthz]
