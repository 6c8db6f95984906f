"""Settings: the box's name and time zone, users and roles, API tokens, re-running the set-up."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from appliance.admin.system import time_zones
from appliance.errors import UserError
from appliance.forms import FieldErrors
from appliance.storage import Operator
from web.deps import AdminDep, AuthDep
from web.render import render
from web.security import principal_of, requires


async def _page(request: Request[Any, Any, Any], admin: Any, auth: Any, status: int = 200,
                **context: Any) -> Response[Any]:
    context.setdefault("values", await admin.system.current())
    context.setdefault("user_values", {"role": "operator"})
    return await render(request, "settings.html", partial=context.pop("partial", None), status=status,
                        zones=time_zones(), users=await auth.users.list(), tokens=await auth.tokens.list(),
                        operators=await Operator.all().order_by("extension"), errors=context.pop("errors", {}),
                        title="Settings", **context)


@get("/")
async def settings_page(request: Request[Any, Any, Any], admin: AdminDep, auth: AuthDep) -> Response[Any]:
    """Every setting on one page (the users section for htmx)."""
    return await _page(request, admin, auth, partial="users")


@post("/system")
async def save_system(request: Request[Any, Any, Any], admin: AdminDep, auth: AuthDep) -> Response[Any]:
    """Save the box's name and time zone."""
    form = dict(await request.form())
    try:
        await admin.system.update(form)
    except FieldErrors as err:
        return await _page(request, admin, auth, 422, partial="system", values=form, errors=err.errors)
    return await _page(request, admin, auth, partial="system", system_saved=True)


@post("/users")
async def add_user(request: Request[Any, Any, Any], admin: AdminDep, auth: AuthDep) -> Response[Any]:
    """Add a user with a role."""
    form = dict(await request.form())
    try:
        await auth.users.create(form)
    except FieldErrors as err:
        return await _page(request, admin, auth, 422, partial="users", user_values=form, errors=err.errors)
    return await _page(request, admin, auth, partial="users", user_saved=form.get("username"))


@post("/users/{user_id:int}/delete")
async def delete_user(request: Request[Any, Any, Any], auth: AuthDep, user_id: FromPath[int]) -> Response[Any]:
    """Remove a user (never oneself, never the last admin)."""
    principal = principal_of(request)
    await auth.users.delete(user_id, principal.user_id if principal else None)
    return Redirect("/settings", status_code=303)


@post("/users/{user_id:int}/password")
async def reset_password(request: Request[Any, Any, Any], admin: AdminDep, auth: AuthDep,
                         user_id: FromPath[int]) -> Response[Any]:
    """Set someone's password (they are signed out everywhere)."""
    form = await request.form()
    try:
        await auth.users.reset_password(user_id, str(form.get("password") or ""))
    except FieldErrors as err:
        raise UserError(err.errors["password"]) from err
    return await _page(request, admin, auth, partial="users", user_saved="password")


@post("/tokens")
async def add_token(request: Request[Any, Any, Any], admin: AdminDep, auth: AuthDep) -> Response[Any]:
    """Create an API token and show its secret this once."""
    principal = principal_of(request)
    form = dict(await request.form())
    try:
        row, secret = await auth.tokens.create(form, principal.name if principal else "")
    except FieldErrors as err:
        return await _page(request, admin, auth, 422, partial="tokens", errors=err.errors)
    return await _page(request, admin, auth, partial="tokens", new_token=secret, new_token_name=row.name)


@post("/tokens/{token_id:int}/revoke")
async def revoke_token(auth: AuthDep, token_id: FromPath[int]) -> Response[Any]:
    """Stop a token from working."""
    await auth.tokens.revoke(token_id)
    return Redirect("/settings", status_code=303)


ROUTES = [Router("/settings", route_handlers=[settings_page, save_system, add_user, delete_user, reset_password,
                                              add_token, revoke_token],
                 guards=[requires("config")], include_in_schema=False)]
