"""Operators and their seats: live state, add, edit (SIP seats), remove."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from appliance.forms import FieldErrors
from web.deps import AdminDep
from web.render import render
from web.security import requires

DEFAULTS: dict[str, Any] = {"name": "", "extension": "", "seats": "", "enabled": True}


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = dict(await request.form())
    form["enabled"] = "enabled" in form
    return form


async def _page(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str],
                status: int = 200, **context: Any) -> Response[Any]:
    seats = values.get("seats", "")
    values = {**values, "seats": seats if isinstance(seats, str) else "\n".join(seats)}
    return await render(request, "operators/form.html", partial="form", status=status, values=values,
                        errors=errors, title=values.get("name") or "New operator", **context)


@get("/")
async def operator_list(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Every operator with seats, queues and live state."""
    return await render(request, "operators/list.html", partial="table", operators=await admin.operators.list(),
                        title="Operators & seats")


@get("/new")
async def new_operator(request: Request[Any, Any, Any]) -> Response[Any]:
    """The form for a new operator."""
    return await _page(request, DEFAULTS, {})


@post("/new")
async def create_operator(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Create an operator (the queue manager reloads), or show the form's errors."""
    form = await _form(request)
    try:
        operator = await admin.operators.save(form)
    except FieldErrors as err:
        return await _page(request, form, err.errors, 422)
    return Redirect(f"/operators/{operator.id}", status_code=303)


@get("/{operator_id:int}")
async def edit_operator(request: Request[Any, Any, Any], admin: AdminDep,
                        operator_id: FromPath[int]) -> Response[Any]:
    """An operator's form."""
    return await _page(request, await admin.operators.view_one(operator_id), {})


@post("/{operator_id:int}")
async def update_operator(request: Request[Any, Any, Any], admin: AdminDep,
                          operator_id: FromPath[int]) -> Response[Any]:
    """Save an operator and their seats, all or nothing."""
    form = await _form(request)
    try:
        await admin.operators.save(form, operator_id)
    except FieldErrors as err:
        return await _page(request, {**form, "id": operator_id}, err.errors, 422)
    return await _page(request, await admin.operators.view_one(operator_id), {}, saved=True)


@post("/{operator_id:int}/delete")
async def delete_operator(admin: AdminDep, operator_id: FromPath[int]) -> Response[Any]:
    """Remove an operator who is not on a call."""
    await admin.operators.delete(operator_id)
    return Redirect("/operators", status_code=303)


ROUTES = [Router("/operators", route_handlers=[operator_list, new_operator, create_operator, edit_operator,
                                               update_operator, delete_operator],
                 guards=[requires("config")], include_in_schema=False)]
