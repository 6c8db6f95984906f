"""The first-boot wizard's queue step: the first queue and its operators, saved all or nothing.

Re-running the wizard edits the same rows (operators by id, the queue by id) instead of adding
new ones, so going through it twice leaves one queue and the same operators.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from appliance.acd import QueueManager
from appliance.admin.operators import OperatorAdmin
from appliance.admin.queues import QueueAdmin
from appliance.admin.reload import Reloader
from appliance.forms import FieldErrors
from appliance.storage import Operator, Queue, Seat

ROWS = 3  # operator rows offered at least


class FirstQueue:
    """Saves the wizard's queue form."""

    def __init__(self, queues: QueueAdmin, operators: OperatorAdmin, acd: QueueManager,
                 reloader: Reloader) -> None:
        self._queues = queues
        self._operators = operators
        self._acd = acd
        self._reload = reloader

    async def current(self) -> dict[str, Any]:
        """The form's values: the first queue (or defaults) and every operator, plus empty rows."""
        queue = await Queue.all().order_by("id").first()
        values: dict[str, Any] = {"queue_id": "", "name": "support", "strategy": "ringall", "wait_mode": "music",
                                  "ring_timeout_s": 15, "numbers": "*"}
        if queue is not None:
            view = await self._queues.view(queue)
            values.update({k: view[k] for k in ("name", "strategy", "wait_mode", "ring_timeout_s")},
                          queue_id=queue.id, numbers=", ".join(view["numbers"]))
        rows = []
        for op in await Operator.all().order_by("extension"):
            seat = await Seat.filter(operator=op, kind="sip_uri").order_by("id").first()
            rows.append({"id": op.id, "name": op.name, "extension": op.extension, "seat": seat.target if seat else ""})
        rows += [{"id": "", "name": "", "extension": "", "seat": ""} for _ in range(max(ROWS - len(rows), 1))]
        values["operators"] = rows
        return values

    @staticmethod
    def rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
        """The operator rows of a posted form (op-<i>-name, op-<i>-extension, op-<i>-seat, op-<i>-id)."""
        rows = []
        for i in range(50):
            row = {k: str(data.get(f"op-{i}-{k}") or "").strip() for k in ("id", "name", "extension", "seat")}
            if f"op-{i}-name" not in data:
                break
            rows.append(row)
        return rows

    async def save(self, data: Mapping[str, Any]) -> Queue:
        """Validate every operator row and the queue, then write them in one transaction and reload once."""
        errors: dict[str, str] = {}
        operators: list[tuple[dict[str, Any], Operator | None]] = []
        extensions: list[str] = []
        for i, row in enumerate(self.rows(data)):
            if not any(row[k] for k in ("name", "extension", "seat")):
                continue
            current = await Operator.get_or_none(id=int(row["id"])) if row["id"].isdigit() else None
            try:
                cleaned = await self._operators.validate(
                    {"name": row["name"], "extension": row["extension"], "seats": row["seat"]}, current)
            except FieldErrors as err:
                errors.update({f"op-{i}-{'seat' if k == 'seats' else k}": v for k, v in err.errors.items()})
                continue
            if cleaned["extension"] in extensions:
                errors[f"op-{i}-extension"] = "Two operators cannot share an extension."
            if not cleaned["seats"]:
                errors[f"op-{i}-seat"] = "Say where this operator takes calls, e.g. sip:101@192.168.1.50:5060."
            extensions.append(cleaned["extension"])
            operators.append((cleaned, current))
        if not operators and not errors:
            errors["op-0-name"] = "Add at least one operator."
        queue = await Queue.get_or_none(id=int(data["queue_id"])) if str(data.get("queue_id", "")).isdigit() else None
        try:
            queue_fields = await self._queues.validate({**data, "members": extensions}, queue, pending=extensions)
        except FieldErrors as err:
            errors.update(err.errors)
        if errors:
            raise FieldErrors(errors)
        async with in_transaction():
            for cleaned, current in operators:
                await self._operators.write(cleaned, current)
            saved = await self._queues.write(queue_fields, queue)
        await self._reload.run(self._acd.load)
        return saved
