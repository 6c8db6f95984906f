"""Outbound calls an operator places (click-to-call): ring the operator, dial out with failover, bridge.

The operator's seat rings first, showing the number about to be dialled; when they answer, the
number is dialled through the route's trunks (`dialer.py`); when the callee answers, both legs are
bridged and recorded. If the dial-out fails, the operator's leg is hung up with a `Reason` header
carrying the callee's answer (486 busy, 404 ...), and the call's record says the same.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from appliance.acd.journal import CallJournal
from appliance.errors import NotFoundError, SipError, UserError
from appliance.recording import RecordingIndex
from appliance.routing.dialer import Attempt, Dialer, DialResult
from appliance.routing.legs import Leg, LegWatch, wait_until
from appliance.routing.routes import NUMBER, RouteTable
from appliance.sip.abc import SipEngine
from appliance.storage import Operator

log = logging.getLogger(__name__)
OPERATOR_RING_S = 30.0
LONGEST_CALL_S = 12 * 3600.0  # a bound for the wait of a connected call, not a policy
_RESULTS = {486: "busy", 600: "busy", 404: "invalid number", 484: "invalid number", 487: "cancelled",
            480: "no answer", 408: "no answer"}


@dataclasses.dataclass
class OutboundCall:
    """One operator's outbound call, as the API shows it."""

    id: str
    operator: str  # extension
    operator_name: str
    number: str
    route: str
    state: str = "ringing operator"  # ringing operator, dialing, connected, ended
    result: str = ""  # answered, busy, invalid number, no answer, failed, cancelled, operator unavailable
    code: int = 0
    reason: str = ""
    trunk: str = ""
    setup_ms: int | None = None
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    created_at: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event, repr=False)
    cancelled: bool = False

    def view(self) -> dict[str, Any]:
        """For the API."""
        return {"id": self.id, "operator": self.operator, "number": self.number, "route": self.route,
                "state": self.state, "result": self.result, "code": self.code, "reason": self.reason,
                "trunk": self.trunk, "setup_ms": self.setup_ms, "created_at": self.created_at.isoformat(),
                "attempts": [a.view() for a in self.attempts]}


class Presence(Protocol):
    """Who else offers calls to operators (the queue manager)."""

    def reserve(self, extension: str) -> bool:
        """Mark the operator busy; False if they are not free."""

    def release(self, extension: str) -> None:
        """The operator is free again."""


class OutboundCalls:
    """Click-to-call for operators."""

    def __init__(self, engine: SipEngine, dialer: Dialer, legs: LegWatch, routes: Callable[[], RouteTable],
                 journal: CallJournal, recordings: RecordingIndex | None) -> None:
        self._engine = engine
        self._dialer = dialer
        self._legs = legs
        self._routes = routes
        self._journal = journal
        self._recordings = recordings
        self._calls: collections.OrderedDict[str, OutboundCall] = collections.OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.bridges: dict[str, str] = {}  # bridge key -> call id, until its recording is closed
        self.presence: Presence | None = None  # the queue manager: operators on a call get no queued calls

    async def originate(self, extension: str, number: str) -> OutboundCall:
        """Ring the operator now; the rest happens in the background. UserError/NotFoundError when refused."""
        number = number.strip()
        if not NUMBER.match(number):
            raise UserError("number must be 1-32 digits, * or #, with an optional leading +")
        route = self._routes().match(number)
        if route is None:
            raise UserError(f"no outbound route takes {number}")
        row = await Operator.get_or_none(extension=str(extension), enabled=True).prefetch_related("seats")
        seat = next((s.target for s in sorted(row.seats, key=lambda s: s.id) if s.enabled and s.kind == "sip_uri"),
                    None) if row else None
        if row is None or seat is None:
            raise NotFoundError(f"no enabled operator with extension {extension} and a SIP seat")
        if self.presence is not None and not self.presence.reserve(row.extension):
            raise UserError(f"operator {row.extension} is busy with a queued call")
        call = OutboundCall(str(uuid.uuid4()), row.extension, row.name, number, route.name)
        self._calls[call.id] = call
        while len(self._calls) > 200:
            self._calls.popitem(last=False)
        self._journal.call_started(call.id, direction="out", caller=row.extension, did=number,
                                   operator=row.name, started_at=call.created_at)
        task = asyncio.create_task(self._run(call, seat), name=f"outbound-{call.id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call

    def get(self, call_id: str) -> OutboundCall:
        """A recent outbound call, or NotFoundError."""
        try:
            return self._calls[call_id]
        except KeyError:
            raise NotFoundError(f"no outbound call {call_id}") from None

    def recent(self) -> list[OutboundCall]:
        """The latest outbound calls, newest first."""
        return list(reversed(self._calls.values()))

    def hangup(self, call_id: str) -> None:
        """End a call in whatever state it is."""
        call = self.get(call_id)
        call.cancelled = True
        call.wake.set()

    async def stop(self) -> None:
        """End every outbound call and wait for them."""
        for call in self._calls.values():
            call.cancelled = True
            call.wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, call: OutboundCall, seat: str) -> None:
        legs: list[Leg] = []
        try:
            await self._connect(call, seat, legs)
        except (SipError, OSError) as err:
            log.warning("outbound call %s failed: %s", call.id, err)
            self._finish(call, "failed", 500, str(err))
        except Exception:
            log.exception("outbound call %s crashed", call.id)
            self._finish(call, "failed", 500, "internal error")
        finally:
            for leg in legs:
                if leg.ended is None:
                    await self._hangup(leg, call.code if call.result not in ("answered", "") else 0)
            if self.presence is not None:
                self.presence.release(call.operator)

    async def _connect(self, call: OutboundCall, seat: str, legs: list[Leg]) -> None:
        op = self._legs.watch(await self._engine.dial(seat, call.number, "Outbound call"), call.wake)
        legs.append(op)
        await wait_until(call.wake, lambda: op.answered is not None or op.ended is not None or call.cancelled,
                         OPERATOR_RING_S)
        if op.answered is None:
            outcome = "cancelled" if call.cancelled else "operator unavailable"
            self._finish(call, outcome, 487, "operator did not answer")
            return
        call.state = "dialing"
        route = self._routes().match(call.number)
        if route is None:
            self._finish(call, "failed", 404, "the route is gone")
            return
        result = await self._dialer.dial(route, call.number, call.wake,
                                         cancelled=lambda: call.cancelled or op.ended is not None)
        call.attempts, call.setup_ms = result.attempts, result.setup_ms
        tried = [a for a in result.attempts if a.outcome != "skipped"]
        for failed, then in itertools.pairwise(tried):  # what the carrier reports count
            self._journal.event(call.id, call.route, "FAILOVER", "", failed.trunk, then.trunk,
                                failed.code or failed.outcome)
        if result.leg is None:
            self._finish(call, _RESULTS.get(result.code, "failed"), result.code, result.reason)
            return
        await self._bridge(call, op, result, legs)

    async def _bridge(self, call: OutboundCall, op: Leg, result: DialResult, legs: list[Leg]) -> None:
        out = result.leg
        assert out is not None
        legs.append(out)
        call.trunk, call.state, call.result, call.code = result.trunk, "connected", "answered", 200
        now = datetime.now(UTC)
        self._journal.call_updated(call.id, trunk=result.trunk, answered_at=now, connected_at=now)
        path = self._recordings.path_for(call.id, call.created_at) if self._recordings else None
        bridge = await self._engine.bridge(op.key, out.key, path)
        if path is not None:
            self.bridges[bridge] = call.id
        await wait_until(call.wake, lambda: op.ended is not None or out.ended is not None or call.cancelled,
                         LONGEST_CALL_S)
        who = "operator hung up" if op.ended is not None else "callee hung up" if out.ended else "ended by the API"
        talk = (datetime.now(UTC) - now).total_seconds()
        self._finish(call, "answered", 200, who, talk_s=round(talk, 3))

    def _finish(self, call: OutboundCall, result: str, code: int, reason: str, **fields: Any) -> None:
        call.state, call.result, call.code, call.reason = "ended", result, code, reason
        disposition = "ANSWERED" if result == "answered" else result.upper().replace(" ", "_")[:24]
        self._journal.call_updated(call.id, ended_at=datetime.now(UTC), disposition=disposition,
                                   hangup_cause=f"{code} {reason}"[:64], **fields)
        log.info("outbound call %s to %s: %s (%s %s)", call.id, call.number, result, code, reason)

    async def _hangup(self, leg: Leg, cause: int) -> None:
        try:
            await self._engine.hangup(leg.key, cause)
        except SipError as err:
            log.debug("hang-up of %s: %s", leg.key, err)
