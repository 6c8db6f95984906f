"""Operators and their seats as an admin edits them; reloads the queue manager only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from appliance.acd import QueueManager
from appliance.admin.reload import Reloader
from appliance.errors import NotFoundError, UserError
from appliance.forms import Form
from appliance.storage import Operator, Seat

EXTENSION = re.compile(r"^[0-9]{2,8}$")
SIP_URI = re.compile(r"^sips?:([^@\s]+@)?[A-Za-z0-9.\-\[\]:]+(;[^\s]*)?$")


class OperatorAdmin:
    """CRUD for operators and their SIP seats."""

    def __init__(self, acd: QueueManager, reloader: Reloader) -> None:
        self._acd = acd
        self._reload = reloader

    async def get(self, operator_id: int) -> Operator:
        """One operator row, or NotFoundError."""
        operator = await Operator.get_or_none(id=operator_id)
        if operator is None:
            raise NotFoundError(f"no operator #{operator_id}")
        return operator

    def live(self) -> dict[str, dict[str, Any]]:
        """The queue manager's view of each operator, by extension."""
        return {op["extension"]: op for op in self._acd.snapshot()["operators"]}

    async def list(self) -> list[dict[str, Any]]:
        """Every operator with seats and live state."""
        live = self.live()
        rows = await Operator.all().order_by("extension").prefetch_related("seats", "memberships__queue")
        return [self.view(op, live.get(op.extension)) for op in rows]

    def view(self, op: Operator, live: Mapping[str, Any] | None) -> dict[str, Any]:
        """An operator (seats and queues prefetched) for pages and the API."""
        seats = sorted(op.seats, key=lambda s: s.id)
        return {"id": op.id, "name": op.name, "extension": op.extension, "enabled": op.enabled,
                "seats": [s.target for s in seats if s.kind == "sip_uri"],
                "other_seats": [f"{s.kind}: {s.target}" for s in seats if s.kind != "sip_uri"],
                "queues": sorted(m.queue.name for m in op.memberships),
                "state": (live or {}).get("state", "disabled" if not op.enabled else "offline"),
                "calls_taken": (live or {}).get("calls_taken", 0)}

    async def view_one(self, operator_id: int) -> dict[str, Any]:
        """One operator for the API."""
        op = await Operator.get(id=(await self.get(operator_id)).id).prefetch_related("seats", "memberships__queue")
        return self.view(op, self.live().get(op.extension))

    async def validate(self, data: Mapping[str, Any], current: Operator | None = None) -> dict[str, Any]:
        """Cleaned fields with the seat URIs, or FieldErrors."""
        form = Form(data)
        name = form.text("name", required=True, max_length=128, label="The name")
        extension = form.text("extension", required=True, max_length=8, label="The extension")
        if extension and not EXTENSION.match(extension):
            form.error("extension", "Use 2 to 8 digits, e.g. 101.")
        elif extension and await Operator.filter(extension=extension).exclude(
                id=current.id if current else 0).exists():
            form.error("extension", "Another operator has this extension.")
        seats = form.items("seats")
        for target in seats:
            if not SIP_URI.match(target):
                form.error("seats", f"{target!r} is not a SIP address: write it like sip:101@192.168.1.50:5060.")
        cleaned = {"name": name, "extension": extension, "enabled": form.flag("enabled", default=True),
                   "seats": seats}
        form.check()
        return cleaned

    async def save(self, data: Mapping[str, Any], operator_id: int | None = None) -> Operator:
        """Create or update an operator and their SIP seats in one transaction, then reload."""
        current = await self.get(operator_id) if operator_id is not None else None
        cleaned = await self.validate(data, current)
        async with in_transaction():
            operator = await self.write(cleaned, current)
        await self._reload.run(self._acd.load)
        return operator

    @staticmethod
    async def write(cleaned: dict[str, Any], current: Operator | None) -> Operator:
        """Store validated fields (inside the caller's transaction)."""
        fields = {k: v for k, v in cleaned.items() if k != "seats"}
        if current is None:
            operator = await Operator.create(**fields)
        else:
            operator = current.update_from_dict(fields)
            await operator.save()
        await Seat.filter(operator=operator, kind="sip_uri").delete()
        for target in cleaned["seats"]:
            await Seat.create(operator=operator, kind="sip_uri", target=target)
        return operator

    async def delete(self, operator_id: int) -> None:
        """Remove an operator who is not on a call."""
        operator = await self.get(operator_id)
        if self.live().get(operator.extension, {}).get("state") in ("ringing", "on_call"):
            raise UserError(f"{operator.name} is on a call: remove them when the call is over.")
        await operator.delete()
        await self._reload.run(self._acd.load)
