"""The queue manager's view of the configuration: queues, operators and DID routes, from the database."""

from __future__ import annotations

import dataclasses

from appliance.acd.model import Operator, OperatorState, QueueConfig, Seat
from appliance.storage import Did
from appliance.storage import Operator as OperatorRow
from appliance.storage import Queue as QueueRow

ANY = "*"  # a DID number that takes every call of its trunk (or of every trunk)


@dataclasses.dataclass
class Directory:
    """Queues, operators and routes as plain objects."""

    queues: dict[str, QueueConfig]
    operators: dict[int, Operator]
    routes: dict[tuple[str | None, str], str]  # (trunk or None for any, number) -> queue

    def route(self, trunk: str, numbers: list[str]) -> tuple[str, str] | None:
        """The (queue, DID) for a call on `trunk` to the first of `numbers` that has a route."""
        for number in [n for n in numbers if n] + [ANY]:
            for key in ((trunk, number), (None, number)):
                if key in self.routes:
                    did = number if number != ANY else next((n for n in numbers if n), "")
                    return self.routes[key], did
        return None


async def load_directory(previous: dict[int, Operator] | None = None) -> Directory:
    """Read the configuration; operators keep their live state across reloads."""
    previous = previous or {}
    queues: dict[str, QueueConfig] = {}
    for row in await QueueRow.all().prefetch_related("members"):
        members = sorted(row.members, key=lambda m: (m.position, m.penalty, m.id))
        queues[row.name] = QueueConfig(
            name=row.name, strategy=row.strategy, ring_timeout_s=row.ring_timeout_s, retry_s=row.retry_s,
            max_wait_s=row.max_wait_s, wait_mode=row.wait_mode,
            members=[m.operator_id for m in members])  # type: ignore[attr-defined]
    operators: dict[int, Operator] = {}
    for op in await OperatorRow.filter(enabled=True).prefetch_related("seats"):
        seats = [Seat(s.kind, s.target, s.enabled) for s in sorted(op.seats, key=lambda s: s.id)]
        old = previous.get(op.id)
        operators[op.id] = Operator(op.id, op.name, op.extension, seats,
                                    state=old.state if old else OperatorState.AVAILABLE,
                                    calls_taken=old.calls_taken if old else 0,
                                    last_call_end=old.last_call_end if old else 0.0)
    routes: dict[tuple[str | None, str], str] = {}
    for did in await Did.all().prefetch_related("trunk", "queue"):
        routes[(did.trunk.name if did.trunk else None, did.number)] = did.queue.name
    return Directory(queues, operators, routes)
