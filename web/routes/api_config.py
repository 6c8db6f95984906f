"""`/api/v1/config/...`: trunks, queues and operators, through the same services as the panel."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from litestar import Router, delete, get, post, put
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED

from web.deps import AdminDep
from web.security import requires

T = TypeVar("T")


@dataclasses.dataclass
class TrunkIn:
    """A trunk to create or replace (omit `password` to keep the saved one)."""

    name: str
    host: str
    kind: str = "registration"
    transport: str = "udp"
    username: str = ""
    password: str | None = None
    realm: str = "*"
    allowed_sources: str = ""
    register_expiry_s: int = 300
    priority: int = 10
    enabled: bool = True


@dataclasses.dataclass
class TrunkOut:
    """A trunk with its live state (never its password)."""

    id: int
    name: str
    kind: str
    host: str
    transport: str
    username: str
    realm: str
    allowed_sources: str
    register_expiry_s: int
    priority: int
    enabled: bool
    password_set: bool
    state: str
    registered: bool | None
    last_code: int
    last_error: str
    pending: bool = False


@dataclasses.dataclass
class QueueIn:
    """A queue to create or replace: members are operator extensions, numbers are DIDs ("*" = any)."""

    name: str
    strategy: str = "ringall"
    ring_timeout_s: int = 15
    retry_s: int = 2
    max_wait_s: int = 0
    wait_mode: str = "music"
    members: list[str] = dataclasses.field(default_factory=list)
    numbers: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class QueueOut(QueueIn):
    """A queue with its waiting callers."""

    id: int = 0
    member_names: list[str] = dataclasses.field(default_factory=list)
    waiting: int = 0
    longest_wait_s: float = 0.0


@dataclasses.dataclass
class OperatorIn:
    """An operator to create or replace, with their SIP seats in order of preference."""

    name: str
    extension: str
    seats: list[str] = dataclasses.field(default_factory=list)
    enabled: bool = True


@dataclasses.dataclass
class OperatorOut(OperatorIn):
    """An operator with live state."""

    id: int = 0
    other_seats: list[str] = dataclasses.field(default_factory=list)
    queues: list[str] = dataclasses.field(default_factory=list)
    state: str = ""
    calls_taken: int = 0


def _data(body: Any) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(body).items() if v is not None}


def _out(kind: type[T], view: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: v for k, v in view.items() if k in names})


@get("/trunks")
async def list_trunks(admin: AdminDep) -> list[TrunkOut]:
    """Every trunk with its registration state and last error."""
    return [_out(TrunkOut, t) for t in await admin.trunks.list()]


@post("/trunks", status_code=HTTP_201_CREATED)
async def create_trunk(admin: AdminDep, data: TrunkIn) -> TrunkOut:
    """Create a trunk; the SIP engine reloads its trunks."""
    return _out(TrunkOut, admin.trunks.view(await admin.trunks.create(_data(data))))


@get("/trunks/{trunk_id:int}")
async def get_trunk(admin: AdminDep, trunk_id: FromPath[int]) -> TrunkOut:
    """One trunk."""
    return _out(TrunkOut, admin.trunks.view(await admin.trunks.get(trunk_id)))


@put("/trunks/{trunk_id:int}")
async def replace_trunk(admin: AdminDep, trunk_id: FromPath[int], data: TrunkIn) -> TrunkOut:
    """Replace a trunk's settings."""
    return _out(TrunkOut, admin.trunks.view(await admin.trunks.update(trunk_id, _data(data))))


@delete("/trunks/{trunk_id:int}")
async def delete_trunk(admin: AdminDep, trunk_id: FromPath[int]) -> None:
    """Remove a trunk."""
    await admin.trunks.delete(trunk_id)


@post("/trunks/{trunk_id:int}/test")
async def test_trunk(admin: AdminDep, trunk_id: FromPath[int]) -> TrunkOut:
    """Wait up to 10 s for the carrier's answer to this trunk's registration."""
    return _out(TrunkOut, await admin.trunks.test_registration(trunk_id, wait_s=10.0))


@get("/queues")
async def list_queues(admin: AdminDep) -> list[QueueOut]:
    """Every queue with members, numbers and waiting callers."""
    return [_out(QueueOut, q) for q in await admin.queues.list()]


@post("/queues", status_code=HTTP_201_CREATED)
async def create_queue(admin: AdminDep, data: QueueIn) -> QueueOut:
    """Create a queue; the queue manager reloads."""
    return _out(QueueOut, await admin.queues.view(await admin.queues.save(_data(data))))


@get("/queues/{queue_id:int}")
async def get_queue(admin: AdminDep, queue_id: FromPath[int]) -> QueueOut:
    """One queue."""
    return _out(QueueOut, await admin.queues.view(await admin.queues.get(queue_id)))


@put("/queues/{queue_id:int}")
async def replace_queue(admin: AdminDep, queue_id: FromPath[int], data: QueueIn) -> QueueOut:
    """Replace a queue's settings, members and numbers."""
    return _out(QueueOut, await admin.queues.view(await admin.queues.save(_data(data), queue_id)))


@delete("/queues/{queue_id:int}")
async def delete_queue(admin: AdminDep, queue_id: FromPath[int]) -> None:
    """Remove a queue nobody waits in."""
    await admin.queues.delete(queue_id)


@get("/operators")
async def list_operators(admin: AdminDep) -> list[OperatorOut]:
    """Every operator with seats and live state."""
    return [_out(OperatorOut, o) for o in await admin.operators.list()]


@post("/operators", status_code=HTTP_201_CREATED)
async def create_operator(admin: AdminDep, data: OperatorIn) -> OperatorOut:
    """Create an operator; the queue manager reloads."""
    operator = await admin.operators.save(_data(data))
    return _out(OperatorOut, await admin.operators.view_one(operator.id))


@get("/operators/{operator_id:int}")
async def get_operator(admin: AdminDep, operator_id: FromPath[int]) -> OperatorOut:
    """One operator."""
    return _out(OperatorOut, await admin.operators.view_one(operator_id))


@put("/operators/{operator_id:int}")
async def replace_operator(admin: AdminDep, operator_id: FromPath[int], data: OperatorIn) -> OperatorOut:
    """Replace an operator's name, extension and seats."""
    await admin.operators.save(_data(data), operator_id)
    return _out(OperatorOut, await admin.operators.view_one(operator_id))


@delete("/operators/{operator_id:int}")
async def delete_operator(admin: AdminDep, operator_id: FromPath[int]) -> None:
    """Remove an operator who is not on a call."""
    await admin.operators.delete(operator_id)


ROUTES = [Router("/api/v1/config", tags=["configuration"], guards=[requires("config")], route_handlers=[
    list_trunks, create_trunk, get_trunk, replace_trunk, delete_trunk, test_trunk,
    list_queues, create_queue, get_queue, replace_queue, delete_queue,
    list_operators, create_operator, get_operator, replace_operator, delete_operator])]
