"""Carrier trunks: list with live status and last error, add, edit, remove, test registration."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from appliance.forms import FieldErrors
from web.deps import AdminDep
from web.render import render
from web.security import requires

DEFAULTS = {"kind": "registration", "transport": "udp", "realm": "*", "register_expiry_s": 300, "priority": 10,
            "enabled": True}


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = dict(await request.form())
    form["enabled"] = "enabled" in form  # an unticked checkbox is not posted
    return form


@get("/")
async def trunk_list(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Every trunk with state and last error (the table alone for htmx)."""
    return await render(request, "trunks/list.html", partial="table", trunks=await admin.trunks.list(),
                        title="Carriers")


@get("/new")
async def new_trunk(request: Request[Any, Any, Any]) -> Response[Any]:
    """The form for a new trunk."""
    return await render(request, "trunks/form.html", partial="form", values=DEFAULTS, errors={}, title="New carrier")


@post("/new")
async def create_trunk(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Create a trunk (the SIP engine reloads its trunks), or show the form's errors."""
    form = await _form(request)
    try:
        trunk = await admin.trunks.create(form)
    except FieldErrors as err:
        return await render(request, "trunks/form.html", partial="form", status=422, values=form,
                            errors=err.errors, title="New carrier")
    return Redirect(f"/trunks/{trunk.id}", status_code=303)


@get("/{trunk_id:int}")
async def edit_trunk(request: Request[Any, Any, Any], admin: AdminDep, trunk_id: FromPath[int]) -> Response[Any]:
    """A trunk's form with its status."""
    trunk = admin.trunks.view(await admin.trunks.get(trunk_id))
    return await render(request, "trunks/form.html", partial="form", values=trunk, errors={}, title=trunk["name"])


@post("/{trunk_id:int}")
async def update_trunk(request: Request[Any, Any, Any], admin: AdminDep, trunk_id: FromPath[int]) -> Response[Any]:
    """Save a trunk, or show the form's errors; nothing is saved when a field is wrong."""
    form = await _form(request)
    current = admin.trunks.view(await admin.trunks.get(trunk_id))
    try:
        await admin.trunks.update(trunk_id, form)
    except FieldErrors as err:
        return await render(request, "trunks/form.html", partial="form", status=422,
                            values={**current, **form}, errors=err.errors, title=current["name"])
    trunk = admin.trunks.view(await admin.trunks.get(trunk_id))
    return await render(request, "trunks/form.html", partial="form", values=trunk, errors={}, saved=True,
                        title=trunk["name"])


@post("/{trunk_id:int}/delete")
async def delete_trunk(admin: AdminDep, trunk_id: FromPath[int]) -> Response[Any]:
    """Remove a trunk."""
    await admin.trunks.delete(trunk_id)
    return Redirect("/trunks", status_code=303)


@post("/{trunk_id:int}/test")
async def test_trunk(request: Request[Any, Any, Any], admin: AdminDep, trunk_id: FromPath[int]) -> Response[Any]:
    """The registration test's result; it polls itself while the carrier has not answered."""
    result = await admin.trunks.test_registration(trunk_id, wait_s=3.0)
    return await render(request, "trunks/test.html", block="result", t=result, url=f"/trunks/{trunk_id}/test")


ROUTES = [Router("/trunks", route_handlers=[trunk_list, new_trunk, create_trunk, edit_trunk, update_trunk,
                                            delete_trunk, test_trunk],
                 guards=[requires("config")], include_in_schema=False)]
