"""The box's configuration in the database: read it as a `Config`, or turn it into another atomically."""

from __future__ import annotations

import json
from typing import Any

from tortoise.transactions import in_transaction

from appliance.config.fields import columns
from appliance.config.model import SETTING_DEFAULTS, Config, DidKey, split_sources
from appliance.storage import Did, Operator, Queue, QueueMember, Seat, SystemSetting, Trunk

_TRUNK_FIELDS = [c for c in columns(Trunk) if c != "allowed_sources"]
_QUEUE_FIELDS = columns(Queue)
_OPERATOR_FIELDS = columns(Operator)
_SEAT_FIELDS = columns(Seat)
_MEMBER_FIELDS = columns(QueueMember)


async def read() -> Config:
    """Everything `export` writes, as the database has it now."""
    cfg = Config()
    rows = {row.key: row.value for row in await SystemSetting.filter(key__in=list(SETTING_DEFAULTS))}
    cfg.settings = {k: json.loads(rows[k]) if k in rows else v for k, v in SETTING_DEFAULTS.items()}
    for trunk in await Trunk.all().order_by("name"):
        cfg.trunks[trunk.name] = {**{f: getattr(trunk, f) for f in _TRUNK_FIELDS},
                                  "allowed_sources": split_sources(trunk.allowed_sources)}
    for op in await Operator.all().order_by("extension").prefetch_related("seats"):
        seats = sorted(op.seats, key=lambda s: s.id)
        cfg.operators[op.extension] = {**{f: getattr(op, f) for f in _OPERATOR_FIELDS}, "seats": [
            {f: getattr(s, f) for f in _SEAT_FIELDS} for s in seats]}
    for queue in await Queue.all().order_by("name").prefetch_related("members__operator"):
        members = sorted(queue.members, key=lambda m: (m.position, m.id))
        cfg.queues[queue.name] = {**{f: getattr(queue, f) for f in _QUEUE_FIELDS}, "members": [
            {"extension": m.operator.extension, **{f: getattr(m, f) for f in _MEMBER_FIELDS}}
            for m in members]}
    for did in await Did.all().order_by("number", "id").prefetch_related("trunk", "queue"):
        cfg.dids[(did.number, did.trunk.name if did.trunk else None)] = {"queue": did.queue.name}
    return cfg


async def write(old: Config, new: Config) -> None:
    """Turn the database from `old` (as read) into `new`, in one transaction: all of it or nothing."""
    async with in_transaction():
        for key, value in new.settings.items():
            if old.settings.get(key) != value:
                await SystemSetting.update_or_create(key=key, defaults={"value": json.dumps(value)})
        for name, trunk in new.trunks.items():
            if old.trunks.get(name) != trunk:
                fields = {f: trunk[f] for f in _TRUNK_FIELDS}
                fields["allowed_sources"] = ", ".join(trunk["allowed_sources"])
                await Trunk.update_or_create(name=name, defaults=fields)
        for ext, op in new.operators.items():
            await _write_operator(ext, op, old.operators.get(ext))
        for name, queue in new.queues.items():
            await _write_queue(name, queue, old.queues.get(name))
        await _write_dids(old.dids, new.dids)
        await Queue.filter(name__in=[n for n in old.queues if n not in new.queues]).delete()
        await Operator.filter(extension__in=[e for e in old.operators if e not in new.operators]).delete()
        await Trunk.filter(name__in=[n for n in old.trunks if n not in new.trunks]).delete()


async def _write_operator(ext: str, op: dict[str, Any], before: dict[str, Any] | None) -> None:
    if before == op:
        return
    fields = {f: op[f] for f in _OPERATOR_FIELDS}
    row, _ = await Operator.update_or_create(extension=ext, defaults=fields)
    if before is None or before["seats"] != op["seats"]:
        await Seat.filter(operator=row).delete()
        for seat in op["seats"]:
            await Seat.create(operator=row, **seat)


async def _write_queue(name: str, queue: dict[str, Any], before: dict[str, Any] | None) -> None:
    if before == queue:
        return
    row, _ = await Queue.update_or_create(name=name, defaults={f: queue[f] for f in _QUEUE_FIELDS})
    if before is None or before["members"] != queue["members"]:
        await QueueMember.filter(queue=row).delete()
        for position, member in enumerate(queue["members"]):
            operator = await Operator.get(extension=member["extension"])
            await QueueMember.create(queue=row, operator=operator, position=position,
                                     **{f: member[f] for f in _MEMBER_FIELDS})


async def _write_dids(old: dict[DidKey, dict[str, Any]], new: dict[DidKey, dict[str, Any]]) -> None:
    stale = {key for key, did in old.items() if new.get(key) != did}
    if stale:
        for row in await Did.filter(number__in=[n for n, _ in stale]).prefetch_related("trunk"):
            if (row.number, row.trunk.name if row.trunk else None) in stale:
                await row.delete()
    for (number, trunk), did in new.items():
        if old.get((number, trunk)) != did:
            queue = await Queue.get(name=did["queue"])
            trunk_row = await Trunk.get(name=trunk) if trunk else None
            await Did.create(number=number, trunk=trunk_row, queue=queue)
