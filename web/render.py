"""Rendering pages: the whole page, or only a named block of it for an htmx request.

One handler serves both: a plain or boosted request gets the full page; an htmx request
(`HX-Request` without `HX-Boosted`) gets just the block the page names as its partial, the
way jinja2-fragments does it, with the same context.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.enums import MediaType
from litestar.response import Response
from litestar.utils.scope.state import ScopeState

from appliance.admin import system
from web.security import principal_of

NAV = (  # (path, label, area)
    ("/", "Dashboard", "dashboard"),
    ("/me", "My calls", "own"),
    ("/broken", "What is broken?", "status"),
    ("/trunks", "Carriers", "config"),
    ("/queues", "Queues", "config"),
    ("/operators", "Operators & seats", "config"),
    ("/records", "Call records", "reports"),
    ("/reports", "Reports", "reports"),
    ("/recordings", "Recordings", "recordings"),
    ("/incidents", "Incidents", "incidents"),
    ("/settings", "Settings", "config"),
)


def is_partial(request: Request[Any, Any, Any]) -> bool:
    """Whether htmx asked for a piece of a page rather than a whole page."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


def base_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What every page's template sees: who is signed in, the menu, the office's name and time zone."""
    principal = principal_of(request)
    token = ScopeState.from_scope(request.scope).csrf_token
    token = token if isinstance(token, str) else ""
    return {
        "request": request,
        "user": principal,
        "nav": [item for item in NAV if principal and principal.may(item[2])] if principal else [],
        "path": request.url.path,
        "box_name": system.cached("box_name"),
        "tz": ZoneInfo(system.cached("timezone")),
        "csrf": token,
        "csrf_input": f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}">',
    }


def render_block(env: Environment, template: str, block: str, context: dict[str, Any]) -> str:
    """One block of a template, rendered with the template's full context."""
    tmpl = env.get_template(template)
    return "".join(tmpl.blocks[block](tmpl.new_context(context)))


def render_now(request: Request[Any, Any, Any], template: str, *, block: str | None = None, status: int = 200,
               headers: dict[str, str] | None = None, **context: Any) -> Response[str]:
    """Render without touching the database (error pages: settings as last read)."""
    env: Environment = request.app.template_engine.engine  # type: ignore[union-attr]
    ctx = {**base_context(request), **context}
    body = render_block(env, template, block, ctx) if block else env.get_template(template).render(ctx)
    return Response(body, media_type=MediaType.HTML, status_code=status, headers=headers)


async def render(request: Request[Any, Any, Any], template: str, *, partial: str | None = None,
                 block: str | None = None, status: int = 200, headers: dict[str, str] | None = None,
                 **context: Any) -> Response[str]:
    """The page, or its `partial` block for htmx, or always `block` when given."""
    await system.refresh()
    name = block or (partial if partial and is_partial(request) else None)
    return render_now(request, template, block=name, status=status, headers=headers, **context)


@pass_context
def local_time(ctx: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in the office's time zone."""
    if value is None:
        return ""
    tz = ctx.get("tz") or ZoneInfo("UTC")
    return value.astimezone(tz).strftime(fmt)


def duration(seconds: float | None) -> str:
    """Seconds as m:ss or h:mm:ss."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def install(env: Environment) -> None:
    """Register the panel's filters on the jinja environment."""
    env.filters["local"] = local_time
    env.filters["duration"] = duration
    env.trim_blocks = True
    env.lstrip_blocks = True
