"""The litestar application: routes, dependencies and error mapping.

Every module in `web/routes/` that defines `ROUTES` (a list of route handlers or routers)
is mounted; an area adds a module there and nothing else changes here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from appliance.daemon import Services
from web import routes


def collect_routes() -> list[Any]:
    """The route handlers of every `web/routes/<area>.py`, in module name order."""
    handlers: list[Any] = []
    for module in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        handlers += getattr(importlib.import_module(f"{routes.__name__}.{module.name}"), "ROUTES", [])
    return handlers


def create_app(services: Services) -> Litestar:
    """The web app bound to the running appliance's services."""
    return Litestar(
        route_handlers=collect_routes(),
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        openapi_config=None,
        logging_config=None,  # the daemon configures logging once, for every service
    )
