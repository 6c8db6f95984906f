"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from appliance.auth import COOKIE, LoginRefused, home
from appliance.auth.sessions import IDLE
from appliance.forms import FieldErrors
from web.deps import AuthDep
from web.render import render
from web.security import client_address, principal_of, requires


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go back to after signing in (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def session_cookie(response: Response[Any], token: str) -> Response[Any]:
    """Set the session cookie: HttpOnly, SameSite=Strict, for the whole panel."""
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="strict",
                        max_age=int(IDLE.total_seconds()))
    return response


@get("/login", include_in_schema=False)
async def login_page(request: Request[Any, Any, Any], next: FromQuery[str] = "") -> Response[Any]:
    """The sign-in form (signed-in people go straight on)."""
    principal = principal_of(request)
    if principal is not None:
        return Redirect(safe_next(next, home(principal.role)))
    return await render(request, "login.html", partial="login_form", next=next, username="")


@post("/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any], auth: AuthDep) -> Response[Any]:
    """Check the password (with lockout) and start a session."""
    form = await request.form()
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    target = str(form.get("next") or "")
    try:
        token, role = await auth.login(username, password, client_address(request.scope))
    except LoginRefused as err:
        status = 429 if err.locked_until else 401
        return await render(request, "login.html", partial="login_form", status=status, error=str(err),
                            next=target, username=username)
    return session_cookie(Redirect(safe_next(target, home(role)), status_code=303), token)


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any], auth: AuthDep) -> Response[Any]:
    """End this session."""
    token = request.cookies.get(COOKIE)
    if token:
        await auth.sessions.revoke(token)
    response: Response[Any] = Redirect("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@get("/account", guards=[requires("own")], include_in_schema=False)
async def account(request: Request[Any, Any, Any]) -> Response[Any]:
    """The change-password form."""
    return await render(request, "account.html", partial="password_form", errors={}, title="Your account")


@post("/account", guards=[requires("own")], include_in_schema=False)
async def change_password(request: Request[Any, Any, Any], auth: AuthDep) -> Response[Any]:
    """Change one's own password; other sessions of this user end."""
    principal = principal_of(request)
    assert principal is not None  # the guard let a person in
    assert principal.user_id is not None
    form = dict(await request.form())
    try:
        await auth.users.change_password(principal.user_id, form)
    except FieldErrors as err:
        return await render(request, "account.html", partial="password_form", status=422, errors=err.errors,
                            title="Your account")
    await auth.sessions.revoke_others(principal.user_id, keep=request.cookies.get(COOKIE))
    return await render(request, "account.html", partial="password_form", errors={}, saved=True,
                        title="Your account")


ROUTES = [login_page, login, logout, account, change_password]
