"""The litestar application: routes, dependencies and error mapping."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from appliance.daemon import Services
from web.routes.health import healthz


def create_app(services: Services) -> Litestar:
    """The web app bound to the running appliance's services."""
    return Litestar(
        route_handlers=[healthz],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        openapi_config=None,
        logging_config=None,  # the daemon configures logging once, for every service
    )
