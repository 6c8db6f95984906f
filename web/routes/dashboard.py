"""The live dashboard: uplinks, carriers, operators, queues and calls, pushed by server-sent events.

The stream renders the dashboard's live block once a second and sends it only when it changed,
with a keep-alive comment every 15 s (litestar has no ping of its own); it ends after five
minutes and the browser reconnects, which re-checks the session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from appliance.admin import system
from web.deps import AdminDep, ServicesDep
from web.render import base_context, render, render_block
from web.security import requires

INTERVAL_S = 1.0
KEEPALIVE_S = 15.0
LIFETIME_S = 300.0


async def live_state(services: Any, admin: Any) -> dict[str, Any]:
    """Everything the dashboard shows, from the services' memory plus the calls in progress."""
    stats = services.engine.stats()
    snapshot = services.acd.snapshot()
    uplinks = getattr(services, "uplinks", None)
    return {
        "engine": stats,
        "uplinks": uplinks.status()["uplinks"] if uplinks is not None else None,
        "trunks": services.trunks.status(),
        "operators": snapshot["operators"],
        "queues": snapshot["queues"],
        "connected_calls": snapshot["connected_calls"],
        "active_calls": await admin.calls.active(),
    }


@get("/", guards=[requires("dashboard")], include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any], services: ServicesDep, admin: AdminDep) -> Response[Any]:
    """The dashboard page (its live block for htmx)."""
    return await render(request, "dashboard.html", partial="live", title="Dashboard",
                        **await live_state(services, admin))


async def _frames(request: Request[Any, Any, Any], services: Any, admin: Any,
                  lifetime: float) -> AsyncIterator[ServerSentEventMessage]:
    env = request.app.template_engine.engine  # type: ignore[union-attr]
    await system.refresh()
    last, last_sent, started = "", time.monotonic(), time.monotonic()
    while time.monotonic() - started < lifetime:
        html = render_block(env, "dashboard.html", "live",
                            {**base_context(request), **await live_state(services, admin)})
        if html != last:
            last, last_sent = html, time.monotonic()
            yield ServerSentEventMessage(event="dashboard", data=html)
        elif time.monotonic() - last_sent >= KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ServerSentEventMessage(comment="keep-alive")
        await asyncio.sleep(INTERVAL_S)


@get("/dashboard/stream", guards=[requires("dashboard")], include_in_schema=False)
async def stream(request: Request[Any, Any, Any], services: ServicesDep, admin: AdminDep) -> ServerSentEvent:
    """Server-sent events carrying the dashboard's live block whenever it changes."""
    return ServerSentEvent(_frames(request, services, admin, LIFETIME_S))


ROUTES = [dashboard, stream]
