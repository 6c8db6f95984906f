"""The litestar application: routes, dependencies, security and error mapping.

Every module in `web/routes/` that defines `ROUTES` (a list of route handlers or routers)
is mounted; an area adds a module there and nothing else changes here. Every `/api/v1` route
is behind the API-token check of `web.security.AuthMiddleware`; see that module for guards.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from appliance import __version__
from appliance.admin import Admin
from appliance.auth import Auth
from appliance.daemon import Services
from web import render, routes
from web.errors import HANDLERS
from web.security import AuthMiddleware

WEB = Path(__file__).parent


def collect_routes() -> list[Any]:
    """The route handlers of every `web/routes/<area>.py`, in module name order."""
    handlers: list[Any] = []
    for module in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        handlers += getattr(importlib.import_module(f"{routes.__name__}.{module.name}"), "ROUTES", [])
    return handlers


def openapi() -> OpenAPIConfig:
    """The API's schema at /schema (JSON at /schema/openapi.json), token auth declared."""
    return OpenAPIConfig(
        title="Callbox API", version=__version__, path="/schema",
        description="Configure and watch the box. Authenticate with an API token created under "
                    "Settings → API tokens: `Authorization: Bearer cbx_...`.",
        components=Components(security_schemes={"token": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"token": []}],
        render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
    )


def create_app(services: Services, auth: Auth | None = None) -> Litestar:
    """The web app bound to the running appliance's services."""
    auth = auth or Auth(services.settings.data.dir)
    admin = Admin(services)
    app = Litestar(
        route_handlers=[*collect_routes(), create_static_files_router(path="/static", directories=[WEB / "static"],
                                                                       include_in_schema=False)],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False),
                      "auth": Provide(lambda: auth, use_cache=True, sync_to_thread=False),
                      "admin": Provide(lambda: admin, use_cache=True, sync_to_thread=False)},
        template_config=TemplateConfig(directory=WEB / "templates", engine=JinjaTemplateEngine,
                                       engine_callback=lambda engine: render.install(engine.engine)),
        plugins=[HTMXPlugin()],
        csrf_config=CSRFConfig(secret=auth.web_secret(), cookie_name="callbox_csrf", cookie_httponly=True,
                               cookie_samesite="strict", exclude=["^/api/"]),
        middleware=[AuthMiddleware(auth)],
        exception_handlers=HANDLERS,
        openapi_config=openapi(),
        logging_config=None,  # the daemon configures logging once, for every service
    )
    app.state.first_boot = _prepare_first_boot(auth)
    return app


def _prepare_first_boot(auth: Auth) -> asyncio.Task[Any] | None:
    """Print the set-up code at start-up when the box is not claimed yet (when a loop runs)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop.create_task(auth.first_boot.prepare(), name="first-boot-code")
