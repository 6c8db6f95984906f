"""Queues: list with waiting callers, add, edit (members, numbers, strategy), remove."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from appliance.forms import FieldErrors
from appliance.storage import Operator
from web.deps import AdminDep
from web.render import render
from web.security import requires

DEFAULTS = {"strategy": "ringall", "wait_mode": "music", "ring_timeout_s": 15, "retry_s": 2, "max_wait_s": 0,
            "members": [], "numbers": []}


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = await request.form()
    form: dict[str, Any] = dict(data)
    form["members"] = data.getall("members") if "members" in data else []
    return form


async def _page(request: Request[Any, Any, Any], values: dict[str, Any], errors: dict[str, str],
                status: int = 200, **context: Any) -> Response[Any]:
    operators = await Operator.all().order_by("extension")
    numbers = values.get("numbers", "")
    values = {**values, "numbers": numbers if isinstance(numbers, str) else ", ".join(numbers)}
    return await render(request, "queues/form.html", partial="form", status=status, values=values, errors=errors,
                        operators=operators, title=values.get("name") or "New queue", **context)


@get("/")
async def queue_list(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Every queue with members, numbers and waiting callers."""
    return await render(request, "queues/list.html", partial="table", queues=await admin.queues.list(),
                        title="Queues")


@get("/new")
async def new_queue(request: Request[Any, Any, Any]) -> Response[Any]:
    """The form for a new queue."""
    return await _page(request, DEFAULTS, {})


@post("/new")
async def create_queue(request: Request[Any, Any, Any], admin: AdminDep) -> Response[Any]:
    """Create a queue (the queue manager reloads), or show the form's errors."""
    form = await _form(request)
    try:
        queue = await admin.queues.save(form)
    except FieldErrors as err:
        return await _page(request, form, err.errors, 422)
    return Redirect(f"/queues/{queue.id}", status_code=303)


@get("/{queue_id:int}")
async def edit_queue(request: Request[Any, Any, Any], admin: AdminDep, queue_id: FromPath[int]) -> Response[Any]:
    """A queue's form."""
    return await _page(request, await admin.queues.view(await admin.queues.get(queue_id)), {})


@post("/{queue_id:int}")
async def update_queue(request: Request[Any, Any, Any], admin: AdminDep, queue_id: FromPath[int]) -> Response[Any]:
    """Save a queue with its members and numbers, all or nothing."""
    form = await _form(request)
    try:
        await admin.queues.save(form, queue_id)
    except FieldErrors as err:
        return await _page(request, {**form, "id": queue_id}, err.errors, 422)
    return await _page(request, await admin.queues.view(await admin.queues.get(queue_id)), {}, saved=True)


@post("/{queue_id:int}/delete")
async def delete_queue(admin: AdminDep, queue_id: FromPath[int]) -> Response[Any]:
    """Remove a queue nobody waits in."""
    await admin.queues.delete(queue_id)
    return Redirect("/queues", status_code=303)


ROUTES = [Router("/queues", route_handlers=[queue_list, new_queue, create_queue, edit_queue, update_queue,
                                            delete_queue],
                 guards=[requires("config")], include_in_schema=False)]
