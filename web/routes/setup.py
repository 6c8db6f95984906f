"""The first-boot wizard: claim with the set-up code, office, first carrier, first queue, finish."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from appliance.admin.system import time_zones
from appliance.auth import SetupClosed
from appliance.forms import FieldErrors
from appliance.storage import Trunk
from web.deps import AdminDep, AuthDep
from web.render import render
from web.routes.auth import session_cookie
from web.security import client_address, principal_of

STEPS = (("claim", "Claim the box"), ("office", "Office"), ("carrier", "Carrier"), ("queue", "Queue & operators"),
         ("finish", "Finish"))


async def _require_admin(request: Request[Any, Any, Any], auth: AuthDep) -> None:
    """After the claim, only an admin may walk through the wizard."""
    principal = principal_of(request)
    if principal is None:
        raise NotAuthorizedException("Sign in to continue the set-up.")
    if principal.role != "admin":
        raise PermissionDeniedException("Only an admin can run the set-up.")


async def _step(request: Request[Any, Any, Any], admin: AdminDep, step: str, status: int = 200,
                **context: Any) -> Response[Any]:
    values: dict[str, Any] = {}
    if step == "office":
        values = await admin.system.current()
    elif step == "carrier":
        trunk = await Trunk.all().order_by("id").first()
        values = admin.trunks.view(trunk) if trunk else {"kind": "registration", "transport": "udp", "realm": "*",
                                                          "register_expiry_s": 300, "priority": 10}
    elif step == "queue":
        values = await admin.first_queue.current()
    elif step == "finish":
        values = {"trunks": await admin.trunks.list(), "queues": await admin.queues.list(),
                  "operators": await admin.operators.list()}
    return await render(request, "setup.html", partial="step", status=status, steps=STEPS, step=step,
                        values={**values, **context.pop("values", {})}, errors=context.pop("errors", {}),
                        zones=time_zones(), title="Set up", **context)


@get("/setup", include_in_schema=False)
async def setup_page(request: Request[Any, Any, Any], auth: AuthDep, admin: AdminDep,
                     step: FromQuery[str] = "") -> Response[Any]:
    """The wizard at `step` (the claim while the box is unclaimed)."""
    state = await auth.first_boot.state()
    if state == "unclaimed":
        await auth.first_boot.prepare()
        return await render(request, "setup.html", partial="step", steps=STEPS, step="claim", values={}, errors={},
                            code_file=str(auth.first_boot.code_path), title="Set up")
    await _require_admin(request, auth)
    if step not in dict(STEPS) or step == "claim":
        step = "office"
    return await _step(request, admin, step, rerun=state == "done")


@post("/setup/claim", include_in_schema=False)
async def claim(request: Request[Any, Any, Any], auth: AuthDep) -> Response[Any]:
    """Check the set-up code, create the admin, sign them in."""
    form = dict(await request.form())
    address = client_address(request.scope)
    try:
        await auth.first_boot.claim(form, address)
    except SetupClosed as err:
        raise PermissionDeniedException(str(err)) from err
    except FieldErrors as err:
        values = {k: form.get(k, "") for k in ("username",)}
        return await render(request, "setup.html", partial="step", status=422, steps=STEPS, step="claim",
                            values=values, errors=err.errors, code_file=str(auth.first_boot.code_path),
                            title="Set up")
    token, _ = await auth.login(str(form["username"]), str(form["password"]), address)
    return session_cookie(Redirect("/setup?step=office", status_code=303), token)


@post("/setup/office", include_in_schema=False)
async def office(request: Request[Any, Any, Any], auth: AuthDep, admin: AdminDep) -> Response[Any]:
    """Box name and time zone."""
    await _require_admin(request, auth)
    form = dict(await request.form())
    try:
        await admin.system.update(form)
    except FieldErrors as err:
        return await _step(request, admin, "office", 422, values=form, errors=err.errors)
    return Redirect("/setup?step=carrier", status_code=303)


@post("/setup/carrier", include_in_schema=False)
async def carrier(request: Request[Any, Any, Any], auth: AuthDep, admin: AdminDep) -> Response[Any]:
    """Create or update the first trunk; the page then offers to test its registration."""
    await _require_admin(request, auth)
    form = dict(await request.form())
    form["enabled"] = True
    trunk_id = str(form.get("id") or "")
    try:
        if trunk_id.isdigit():
            await admin.trunks.update(int(trunk_id), form)
        else:
            await admin.trunks.create(form)
    except FieldErrors as err:
        return await _step(request, admin, "carrier", 422, values=form, errors=err.errors)
    return await _step(request, admin, "carrier", saved=True)


@post("/setup/carrier/{trunk_id:int}/test", include_in_schema=False)
async def test_carrier(request: Request[Any, Any, Any], auth: AuthDep, admin: AdminDep,
                       trunk_id: FromPath[int]) -> Response[Any]:
    """The registration test's result (it polls itself while the carrier has not answered)."""
    await _require_admin(request, auth)
    result = await admin.trunks.test_registration(trunk_id, wait_s=3.0)
    return await render(request, "trunks/test.html", block="result", t=result,
                        url=f"/setup/carrier/{trunk_id}/test")


@post("/setup/queue", include_in_schema=False)
async def queue(request: Request[Any, Any, Any], auth: AuthDep, admin: AdminDep) -> Response[Any]:
    """The first queue and its operators, all or nothing."""
    await _require_admin(request, auth)
    form = dict(await request.form())
    try:
        await admin.first_queue.save(form)
    except FieldErrors as err:
        values = {**form, "operators": [{**row, "id": row["id"]} for row in admin.first_queue.rows(form)]}
        return await _step(request, admin, "queue", 422, values=values, errors=err.errors)
    return Redirect("/setup?step=finish", status_code=303)


@post("/setup/finish", include_in_schema=False)
async def finish(request: Request[Any, Any, Any], auth: AuthDep) -> Response[Any]:
    """Open the whole panel."""
    await _require_admin(request, auth)
    await auth.first_boot.finish()
    return Redirect("/", status_code=303)


ROUTES = [setup_page, claim, office, carrier, test_carrier, queue, finish]
