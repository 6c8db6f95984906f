"""`/metrics`: Prometheus text exposition of calls, queues, operators, health, machine and sync."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.di import NamedDependency

from appliance.daemon import Services
from appliance.stats.live import live_state, sample_system
from appliance.stats.prometheus import exposition

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Auth: /metrics is outside /api/, so it is not behind the API-token check. Prometheus scrapes
# without a session: the auth work decides whether it joins the public paths or takes a bearer
# token (it names operators, queues and trunks, but no callers and no secrets).


@get("/metrics", include_in_schema=False)
async def metrics(services: NamedDependency[Services]) -> Response[str]:
    """Every metric of the box, for a Prometheus scrape."""
    live = live_state(services)  # on the loop: the queue manager's state is not thread-safe
    system = await asyncio.to_thread(sample_system, services.settings.data.dir)
    cloud = services.cloud
    sync = await cloud.status() if cloud is not None and cloud.enabled else None
    return Response(exposition(live, system, sync), media_type=CONTENT_TYPE)


ROUTES = [metrics]
