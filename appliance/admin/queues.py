"""Queues as an admin edits them, with their members and dialled numbers; reloads the queue manager only."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from tortoise.transactions import in_transaction

from appliance.acd import QueueManager
from appliance.acd.strategies import STRATEGIES
from appliance.admin.reload import Reloader
from appliance.errors import NotFoundError, UserError
from appliance.forms import Form
from appliance.storage import Did, Operator, Queue, QueueMember, Trunk

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NUMBER = re.compile(r"^(\*|\+?[0-9A-Za-z._-]{1,64})$")


class QueueAdmin:
    """CRUD for queues."""

    def __init__(self, acd: QueueManager, reloader: Reloader) -> None:
        self._acd = acd
        self._reload = reloader

    async def get(self, queue_id: int) -> Queue:
        """One queue row, or NotFoundError."""
        queue = await Queue.get_or_none(id=queue_id)
        if queue is None:
            raise NotFoundError(f"no queue #{queue_id}")
        return queue

    async def list(self) -> list[dict[str, Any]]:
        """Every queue with members, numbers and live waiting callers."""
        live = self._acd.snapshot()["queues"]
        return [await self.view(q, live.get(q.name)) for q in await Queue.all().order_by("name")]

    async def view(self, queue: Queue, live: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A queue for pages and the API."""
        members = await QueueMember.filter(queue=queue).order_by("position", "id").prefetch_related("operator")
        dids = await Did.filter(queue=queue).order_by("number").prefetch_related("trunk")
        live = live if live is not None else self._acd.snapshot()["queues"].get(queue.name, {})
        return {"id": queue.id, "name": queue.name, "strategy": queue.strategy,
                "ring_timeout_s": queue.ring_timeout_s, "retry_s": queue.retry_s,
                "max_wait_s": queue.max_wait_s, "wait_mode": queue.wait_mode,
                "members": [m.operator.extension for m in members],
                "member_names": [m.operator.name for m in members],
                "numbers": [d.number + (f"@{d.trunk.name}" if d.trunk else "") for d in dids],
                "waiting": live.get("waiting", 0), "longest_wait_s": live.get("longest_wait_s", 0.0)}

    async def validate(self, data: Mapping[str, Any], current: Queue | None = None,
                       pending: Collection[str] = ()) -> dict[str, Any]:
        """Cleaned fields with member extensions and (number, trunk) routes, or FieldErrors.

        `pending` are extensions of operators being created in the same transaction.
        """
        form = Form(data)
        name = form.text("name", required=True, max_length=64, label="The name")
        if name and not NAME.match(name):
            form.error("name", "Use letters, digits, dots, dashes and underscores.")
        elif name and await Queue.filter(name=name).exclude(id=current.id if current else 0).exists():
            form.error("name", "Another queue has this name.")
        cleaned: dict[str, Any] = {
            "name": name,
            "strategy": form.choice("strategy", STRATEGIES, default="ringall"),
            "ring_timeout_s": form.integer("ring_timeout_s", default=15, low=3, high=300),
            "retry_s": form.integer("retry_s", default=2, low=0, high=300),
            "max_wait_s": form.integer("max_wait_s", default=0, low=0, high=86400),
            "wait_mode": form.choice("wait_mode", ("music", "ringing"), default="music"),
        }
        members = form.items("members")
        for extension in members:
            if extension not in pending and not await Operator.filter(extension=extension).exists():
                form.error("members", f"No operator has extension {extension}.")
        routes = []
        for item in form.items("numbers"):
            number, _, trunk_name = item.partition("@")
            trunk = await Trunk.get_or_none(name=trunk_name) if trunk_name else None
            if not NUMBER.match(number):
                form.error("numbers", f"{item!r} is not a number: use digits, or * for every number.")
            elif trunk_name and trunk is None:
                form.error("numbers", f"There is no trunk named {trunk_name}.")
            elif taken := await Did.filter(number=number, trunk=trunk).exclude(
                    queue_id=current.id if current else 0).prefetch_related("queue").first():
                form.error("numbers", f"{item} already goes to queue {taken.queue.name}.")
            else:
                routes.append((number, trunk))
        form.check()
        return {**cleaned, "members": list(dict.fromkeys(members)), "routes": routes}

    async def save(self, data: Mapping[str, Any], queue_id: int | None = None) -> Queue:
        """Create (no id) or update a queue with its members and numbers in one transaction, then reload."""
        current = await self.get(queue_id) if queue_id is not None else None
        cleaned = await self.validate(data, current)
        async with in_transaction():
            queue = await self.write(cleaned, current)
        await self._reload.run(self._acd.load)
        return queue

    @staticmethod
    async def write(cleaned: dict[str, Any], current: Queue | None) -> Queue:
        """Store validated fields (inside the caller's transaction)."""
        fields = {k: v for k, v in cleaned.items() if k not in ("members", "routes")}
        if current is None:
            queue = await Queue.create(**fields)
        else:
            queue = current.update_from_dict(fields)
            await queue.save()
        await QueueMember.filter(queue=queue).delete()
        for position, extension in enumerate(cleaned["members"]):
            operator = await Operator.get(extension=extension)
            await QueueMember.create(queue=queue, operator=operator, position=position)
        await Did.filter(queue=queue).delete()
        for number, trunk in cleaned["routes"]:
            await Did.create(number=number, trunk=trunk, queue=queue)
        return queue

    async def delete(self, queue_id: int) -> None:
        """Remove a queue that nobody is waiting in."""
        queue = await self.get(queue_id)
        if self._acd.waiting.get(queue.name):
            raise UserError(f"Callers are waiting in {queue.name}: remove it when the queue is empty.")
        await queue.delete()
        await self._reload.run(self._acd.load)
