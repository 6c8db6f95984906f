"""`callbox load FILE.toml`: create or update trunks, queues, operators and DIDs by name.

A small, additive loader for setting a box up from the command line (and for tests and
benchmarks). Everything in the file is validated before anything is written, and it is written
in one transaction: a bad file changes nothing.

    [[trunk]]
    name = "carrier-a"; kind = "ip"; host = "198.51.100.7"; allowed_sources = "198.51.100.0/28"
    [[operator]]
    name = "Anna"; extension = "101"; seats = ["sip:101@192.168.1.50:5060"]
    [[queue]]
    name = "support"; strategy = "rrmemory"; ring_timeout_s = 15; members = ["101"]
    [[did]]
    number = "4951234567"; queue = "support"; trunk = "carrier-a"   # trunk optional; "*" = any number
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from appliance.acd.strategies import STRATEGIES
from appliance.errors import UserError
from appliance.routing import config as routing_config
from appliance.settings import Settings
from appliance.storage import Database, Did, Operator, Queue, QueueMember, Seat, Trunk
from appliance.trunks.config import FAILOVER_FIELDS, check_failover_fields
from appliance.trunks.sources import parse_networks

_TRUNK_FIELDS = {"name", "kind", "host", "transport", "username", "password", "realm", "allowed_sources",
                 "register_expiry_s", "priority", "enabled"} | FAILOVER_FIELDS
_QUEUE_FIELDS = {"name", "strategy", "ring_timeout_s", "retry_s", "max_wait_s", "wait_mode", "music_file",
                 "members"}


def validate(doc: dict[str, Any]) -> None:
    """Refuse a document that cannot be applied, naming the entry and the field."""
    unknown = set(doc) - {"trunk", "queue", "operator", "did"} - routing_config.SECTIONS
    if unknown:
        raise UserError(f"unknown section(s): {', '.join(sorted(unknown))}")
    for i, trunk in enumerate(doc.get("trunk", [])):
        where = f"trunk #{i + 1} ({trunk.get('name', '?')})"
        _fields(where, trunk, _TRUNK_FIELDS, {"name", "kind", "host"})
        if trunk["kind"] not in ("registration", "ip"):
            raise UserError(f"{where}: kind must be 'registration' or 'ip'")
        if trunk["kind"] == "registration" and not trunk.get("username"):
            raise UserError(f"{where}: a registration trunk needs a username")
        try:
            parse_networks(trunk.get("allowed_sources", ""))
        except ValueError as err:
            raise UserError(f"{where}: allowed_sources: {err}") from err
        try:
            check_failover_fields(trunk)
        except ValueError as err:
            raise UserError(f"{where}: {err}") from err
    extensions = {str(op.get("extension")) for op in doc.get("operator", [])}
    for i, op in enumerate(doc.get("operator", [])):
        _fields(f"operator #{i + 1}", op, {"name", "extension", "seats", "enabled"}, {"name", "extension"})
    for i, queue in enumerate(doc.get("queue", [])):
        where = f"queue #{i + 1} ({queue.get('name', '?')})"
        _fields(where, queue, _QUEUE_FIELDS, {"name"})
        if queue.get("strategy", "ringall") not in STRATEGIES:
            raise UserError(f"{where}: strategy must be one of {', '.join(STRATEGIES)}")
        if queue.get("wait_mode", "music") not in ("music", "ringing"):
            raise UserError(f"{where}: wait_mode must be 'music' or 'ringing'")
        missing = [m for m in queue.get("members", []) if str(m) not in extensions]
        if missing and not all(str(m).isdigit() for m in missing):
            raise UserError(f"{where}: members must be operator extensions")
    for i, did in enumerate(doc.get("did", [])):
        _fields(f"did #{i + 1}", did, {"number", "queue", "trunk"}, {"number", "queue"})
    routing_config.validate(doc)


def _fields(where: str, entry: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    extra, missing = set(entry) - allowed, required - set(entry)
    if extra:
        raise UserError(f"{where}: unknown field(s): {', '.join(sorted(extra))}")
    if missing:
        raise UserError(f"{where}: missing field(s): {', '.join(sorted(missing))}")


async def apply(doc: dict[str, Any]) -> str:
    """Write a validated document in one transaction; returns a one-line summary."""
    validate(doc)
    async with in_transaction():
        for trunk in doc.get("trunk", []):
            fields = {k: v for k, v in trunk.items() if k != "name"}
            await Trunk.update_or_create(name=trunk["name"], defaults=fields)
        for op in doc.get("operator", []):
            row, _ = await Operator.update_or_create(extension=str(op["extension"]),
                                                     defaults={"name": op["name"],
                                                               "enabled": op.get("enabled", True)})
            await Seat.filter(operator=row, kind="sip_uri").delete()
            for target in op.get("seats", []):
                await Seat.create(operator=row, kind="sip_uri", target=target)
        for queue in doc.get("queue", []):
            fields = {k: v for k, v in queue.items() if k not in ("name", "members")}
            queue_row, _ = await Queue.update_or_create(name=queue["name"], defaults=fields)
            if "members" in queue:
                await QueueMember.filter(queue=queue_row).delete()
                for position, extension in enumerate(queue["members"]):
                    operator = await Operator.get_or_none(extension=str(extension))
                    if operator is None:
                        raise UserError(f"queue {queue['name']}: no operator with extension {extension}")
                    await QueueMember.create(queue=queue_row, operator=operator, position=position)
        for did in doc.get("did", []):
            target = await Queue.get_or_none(name=did["queue"])
            if target is None:
                raise UserError(f"did {did['number']}: no queue named {did['queue']}")
            trunk_row = await Trunk.get_or_none(name=did["trunk"]) if did.get("trunk") else None
            if did.get("trunk") and trunk_row is None:
                raise UserError(f"did {did['number']}: no trunk named {did['trunk']}")
            await Did.filter(number=str(did["number"]), trunk=trunk_row).delete()
            await Did.create(number=str(did["number"]), trunk=trunk_row, queue=target)
        await routing_config.apply(doc)
    counts = {k: len(doc.get(k, [])) for k in ("trunk", "operator", "queue", "did")}
    return "loaded " + ", ".join(f"{n} {k}(s)" for k, n in counts.items())


def load_file(settings: Settings, path: Path) -> str:
    """Read, validate and apply a TOML file to the database named by the settings."""
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise UserError(f"cannot read {path}: {err}") from err

    async def main() -> str:
        db = Database(settings.data.database_path)
        await db.open()
        try:
            return await apply(doc)
        finally:
            await db.close()

    return asyncio.run(main())
