"""The queue manager: inbound calls enter queues, are offered to operators, and get bridged.

All state changes happen on the event loop, one event at a time: engine events and timers
are fed through `handle()` in order by the daemon's event pump, so no two handlers interleave
on the same call.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from appliance.acd.directory import Directory, load_directory
from appliance.acd.journal import CallJournal
from appliance.acd.model import Connection, Offer, Operator, OperatorState, QueueConfig, QueueEntry, Seat
from appliance.acd.strategies import strategy
from appliance.errors import SipError
from appliance.recording import RecordingIndex
from appliance.sip.abc import (
    CallAnswered,
    CallEnded,
    CallKey,
    EngineEvent,
    IncomingCall,
    RecordingClosed,
    SipEngine,
)
from appliance.trunks import TrunkService

log = logging.getLogger(__name__)


class QueueManager:
    """Automatic call distribution for every queue of the box."""

    def __init__(self, engine: SipEngine, trunks: TrunkService, journal: CallJournal,
                 recordings: RecordingIndex, wake: Any) -> None:
        self._engine = engine
        self._trunks = trunks
        self._journal = journal
        self._recordings = recordings
        self._wake = wake  # callable(coroutine factory) that runs work through the event pump
        self.directory = Directory({}, {}, {})
        self.waiting: dict[str, list[QueueEntry]] = {}
        self._memory: dict[str, dict[str, int]] = {}
        self._entries: dict[CallKey, QueueEntry] = {}
        self._legs: dict[CallKey, Offer] = {}
        self._connections: dict[CallKey, Connection] = {}
        self._bridges: dict[str, str] = {}  # bridge key -> call id
        self.headset_present: Any = lambda target: False  # set by the headset seats service

    async def load(self) -> None:
        """(Re)read queues, operators and routes; live calls are untouched."""
        self.directory = await load_directory(self.directory.operators)
        for operator in self.directory.operators.values():
            for seat in operator.seats:
                if seat.kind == "headset":
                    seat.present = bool(self.headset_present(seat.target))
        for name in self.directory.queues:
            self.waiting.setdefault(name, [])
            self._memory.setdefault(name, {})
        await self.distribute_all()

    # -- dispatch ------------------------------------------------------------------------
    async def handle(self, event: EngineEvent) -> None:
        """Act on one engine event."""
        if isinstance(event, IncomingCall):
            await self._incoming(event)
        elif isinstance(event, CallAnswered):
            await self._answered(event.key)
        elif isinstance(event, CallEnded):
            await self._ended(event)
        elif isinstance(event, RecordingClosed):
            call_id = self._bridges.pop(event.bridge_key, None)
            if call_id and event.path is not None:
                self._recordings.add(call_id, event.path)

    # -- callers -------------------------------------------------------------------------
    async def _incoming(self, ev: IncomingCall) -> None:
        trunk = self._trunks.match_source(ev.source_ip)
        if trunk is None:
            log.warning("INVITE from %s:%d refused: not a configured trunk", ev.source_ip, ev.source_port)
            await self._engine.reject(ev.key, 403, "Forbidden")
            return
        self._trunks.count_call(trunk)
        routed = self.directory.route(trunk, [ev.request_user, ev.to_user])
        if routed is None or routed[0] not in self.directory.queues:
            log.warning("call on %s to %s/%s refused: no route", trunk, ev.request_user, ev.to_user)
            await self._engine.reject(ev.key, 404, "Not Found")
            return
        queue, did = self.directory.queues[routed[0]], routed[1]
        entry = QueueEntry(call_id=str(uuid.uuid4()), key=ev.key, queue=queue.name, caller=ev.from_user,
                           caller_name=ev.from_name, entered=time.monotonic(), entered_at=datetime.now(UTC),
                           orig_position=len(self.waiting[queue.name]) + 1)
        self._journal.call_started(entry.call_id, sip_call_id=ev.sip_call_id, caller=ev.from_user, did=did,
                                   trunk=trunk, queue=queue.name, started_at=entry.entered_at)
        self.waiting[queue.name].append(entry)
        self._entries[ev.key] = entry
        self._journal.event(entry.call_id, queue.name, "ENTERQUEUE", "", "", ev.from_user, entry.orig_position)
        if queue.max_wait_s > 0:
            entry.timer = self._later(queue.max_wait_s, self._timeout, entry)
        try:
            if queue.wait_mode == "ringing":
                await self._engine.ring(ev.key)
            else:
                await self._answer_caller(entry, hold_music=True)
        except SipError as err:
            log.warning("caller %s vanished before being answered: %s", ev.key, err)
            return
        await self.distribute(queue)

    async def _answer_caller(self, entry: QueueEntry, hold_music: bool) -> None:
        if not entry.answered:
            entry.answered = True
            await self._engine.answer(entry.key, hold_music=hold_music)
            self._journal.call_updated(entry.call_id, answered_at=datetime.now(UTC))

    def _leave(self, entry: QueueEntry) -> int:
        """Take a caller out of its queue; returns the position they had."""
        queue = self.waiting.get(entry.queue, [])
        position = queue.index(entry) + 1 if entry in queue else 0
        if entry in queue:
            queue.remove(entry)
        self._entries.pop(entry.key, None)
        if entry.timer is not None:
            entry.timer.cancel()
        if entry.offer is not None:
            self._close_offer(entry.offer)
        return position

    async def _timeout(self, entry: QueueEntry) -> None:
        if entry.key not in self._entries:
            return
        position = self._leave(entry)
        wait = time.monotonic() - entry.entered
        self._journal.event(entry.call_id, entry.queue, "EXITWITHTIMEOUT", "", position, entry.orig_position,
                            round(wait))
        self._finish(entry.call_id, "TIMEOUT", "max wait reached", hold_s=wait)
        await self._hangup_quietly(entry.key)

    # -- offering ------------------------------------------------------------------------
    async def distribute_all(self) -> None:
        """Offer waiting callers of every queue to free operators."""
        for queue in list(self.directory.queues.values()):
            await self.distribute(queue)

    async def distribute(self, queue: QueueConfig) -> None:
        """Offer the queue's waiting callers, first come first served, to its free operators."""
        now = time.monotonic()
        retry_at = None
        for entry in list(self.waiting.get(queue.name, [])):
            if entry.offer is not None:
                continue
            if entry.next_try > now:
                retry_at = min(retry_at or entry.next_try, entry.next_try)
                continue
            free = [self.directory.operators[i] for i in queue.members
                    if i in self.directory.operators and self.directory.operators[i].free]
            chosen = strategy(queue.strategy)(free, queue.members, self._memory[queue.name])
            if not chosen:
                break  # nobody free: later callers cannot jump ahead of this one
            await self._offer(queue, entry, chosen)
        if retry_at is not None:
            self._later(max(retry_at - now, 0.0), self.distribute, queue)

    async def _offer(self, queue: QueueConfig, entry: QueueEntry, operators: list[Operator]) -> None:
        offer = Offer(entry, started=time.monotonic())
        for operator in operators:
            seat = operator.seat
            if seat is None:
                continue
            try:
                key = await self._ring(seat, entry)
            except SipError as err:
                log.warning("cannot ring %s at %s: %s", operator.name, seat.target, err)
                continue
            operator.state = OperatorState.RINGING
            offer.legs[key] = operator
            self._legs[key] = offer
        if not offer.legs:
            entry.next_try = time.monotonic() + queue.retry_s
            self._later(queue.retry_s, self.distribute, queue)
            return
        entry.offer = offer
        offer.timer = self._later(queue.ring_timeout_s, self._ring_timeout, offer)

    async def _ring(self, seat: Seat, entry: QueueEntry) -> CallKey:
        """Ring a seat: dial a SIP seat, light a headset seat (answered by its hook switch)."""
        if seat.kind == "headset":
            engine: Any = self._engine
            return str(await engine.ring_headset(seat.target, entry.caller, entry.caller_name))
        return await self._engine.dial(seat.target, entry.caller, entry.caller_name)

    def reserve(self, extension: str) -> bool:
        """Mark an operator busy with a call placed outside the queues (click-to-call).

        False when the queues have them ringing or on a call already; an operator the queues do
        not know is nobody's to protect.
        """
        operator = next((op for op in self.directory.operators.values() if op.extension == extension), None)
        if operator is None:
            return True
        if operator.state is not OperatorState.AVAILABLE:
            return False
        operator.state = OperatorState.ON_CALL
        return True

    def release(self, extension: str) -> None:
        """The call placed outside the queues ended: the operator takes queued calls again."""
        operator = next((op for op in self.directory.operators.values() if op.extension == extension), None)
        if operator is not None and operator.state is OperatorState.ON_CALL:
            operator.state = OperatorState.AVAILABLE
            operator.last_call_end = time.monotonic()
            self._wake(self.distribute_all)

    def operator_at(self, kind: str, target: str) -> Operator | None:
        """The operator owning a seat."""
        return next((op for op in self.directory.operators.values()
                     if any(s.kind == kind and s.target == target for s in op.seats)), None)

    async def set_seat_present(self, kind: str, target: str, present: bool) -> None:
        """A seat's device came or went; a seat coming back gets waiting callers offered."""
        for operator in self.directory.operators.values():
            for seat in operator.seats:
                if seat.kind == kind and seat.target == target:
                    seat.present = present
        if present:
            await self.distribute_all()

    def _close_offer(self, offer: Offer, keep: CallKey | None = None) -> None:
        """Stop ringing every leg of an offer except `keep`; the operators become free."""
        offer.closed = True
        if offer.timer is not None:
            offer.timer.cancel()
        for key, operator in list(offer.legs.items()):
            self._legs.pop(key, None)
            if key != keep:
                operator.state = OperatorState.AVAILABLE
                self._spawn(self._hangup_quietly(key))
        if offer.entry.offer is offer:
            offer.entry.offer = None

    async def _ring_timeout(self, offer: Offer) -> None:
        if offer.closed:
            return
        ring_ms = round((time.monotonic() - offer.started) * 1000)
        for operator in offer.legs.values():
            self._journal.event(offer.entry.call_id, offer.entry.queue, "RINGNOANSWER", operator.name, ring_ms,
                                "timeout")
        self._close_offer(offer)
        await self._retry_later(offer.entry)

    async def _retry_later(self, entry: QueueEntry) -> None:
        queue = self.directory.queues.get(entry.queue)
        if queue is None or entry.key not in self._entries:
            return
        entry.next_try = time.monotonic() + queue.retry_s
        await self.distribute_all()

    # -- answers and hang-ups ------------------------------------------------------------
    async def _answered(self, key: CallKey) -> None:
        offer = self._legs.get(key)
        if offer is None or offer.closed:
            return
        entry, operator = offer.entry, offer.legs[key]
        ring_ms = round((time.monotonic() - offer.started) * 1000)
        self._close_offer(offer, keep=key)
        position = self._leave(entry)
        operator.state = OperatorState.ON_CALL
        hold_s = time.monotonic() - entry.entered
        connection = Connection(entry, operator, key, time.monotonic(), hold_s)
        self._connections[entry.key] = self._connections[key] = connection
        try:
            await self._answer_caller(entry, hold_music=False)
            path = await self._recordings.path_for_call(entry.call_id, entry.entered_at, queue=entry.queue,
                                                        operator=operator.name)
            if path is not None and entry.segment:
                path = path.with_name(f"{path.stem}-{entry.segment}{path.suffix}")
            connection.bridge = await self._engine.bridge(entry.key, key, path)
            if path is not None:
                self._bridges[connection.bridge] = entry.call_id
                self._recordings.opened(entry.call_id, path)
        except SipError as err:
            log.warning("bridging %s to %s failed: %s", entry.key, operator.name, err)
        operator.calls_taken += 1
        self._journal.event(entry.call_id, entry.queue, "CONNECT", operator.name, round(hold_s), key, ring_ms,
                            position)
        self._journal.call_updated(entry.call_id, operator=operator.name, connected_at=datetime.now(UTC),
                                   hold_s=round(hold_s, 3))

    async def _ended(self, ev: CallEnded) -> None:
        if ev.key in self._entries:
            await self._abandoned(self._entries[ev.key], ev)
        elif ev.key in self._legs:
            await self._offer_leg_ended(ev)
        elif ev.key in self._connections:
            await self._connection_ended(ev)

    async def _abandoned(self, entry: QueueEntry, ev: CallEnded) -> None:
        position = self._leave(entry)
        wait = time.monotonic() - entry.entered
        self._journal.event(entry.call_id, entry.queue, "ABANDON", "", position, entry.orig_position, round(wait))
        self._finish(entry.call_id, "ABANDONED", f"{ev.status_code} {ev.reason}".strip(), hold_s=wait)
        await self.distribute_all()

    async def _offer_leg_ended(self, ev: CallEnded) -> None:
        offer = self._legs.pop(ev.key)
        operator = offer.legs.pop(ev.key)
        operator.state = OperatorState.AVAILABLE
        ring_ms = round((time.monotonic() - offer.started) * 1000)
        self._journal.event(offer.entry.call_id, offer.entry.queue, "RINGNOANSWER", operator.name, ring_ms,
                            ev.status_code)
        if not offer.legs and not offer.closed:
            self._close_offer(offer)
            await self._retry_later(offer.entry)

    async def _connection_ended(self, ev: CallEnded) -> None:
        if ev.device_lost and ev.key == self._connections[ev.key].operator_key:
            await self._seat_lost(self._connections[ev.key])
            return
        connection = self._connections.pop(ev.key)
        entry, operator = connection.entry, connection.operator
        other = connection.operator_key if ev.key == entry.key else entry.key
        self._connections.pop(other, None)
        talk = time.monotonic() - connection.connected
        event = "COMPLETECALLER" if ev.key == entry.key else "COMPLETEAGENT"
        self._journal.event(entry.call_id, entry.queue, event, operator.name, round(connection.hold_s),
                            round(talk), entry.orig_position)
        self._finish(entry.call_id, "ANSWERED", "caller hung up" if ev.key == entry.key else "operator hung up",
                     talk_s=round(talk, 3))
        operator.state = OperatorState.AVAILABLE
        operator.last_call_end = time.monotonic()
        await self._hangup_quietly(other)
        await self.distribute_all()

    async def _seat_lost(self, connection: Connection) -> None:
        """The operator's headset vanished mid-call: the caller goes back to the head of the queue."""
        entry, operator = connection.entry, connection.operator
        self._connections.pop(entry.key, None)
        self._connections.pop(connection.operator_key, None)
        talk = time.monotonic() - connection.connected
        operator.state = OperatorState.AVAILABLE
        operator.last_call_end = time.monotonic()
        self._journal.event(entry.call_id, entry.queue, "SEATLOST", operator.name, round(connection.hold_s),
                            round(talk), "headset unplugged")
        if entry.queue not in self.waiting:
            self._finish(entry.call_id, "ANSWERED", "operator seat lost", talk_s=round(talk, 3))
            await self._hangup_quietly(entry.key)
            return
        entry.offer, entry.next_try, entry.segment = None, 0.0, entry.segment + 1
        self.waiting[entry.queue].insert(0, entry)
        self._entries[entry.key] = entry
        try:
            await self._engine.hold(entry.key)  # type: ignore[attr-defined]
        except SipError as err:
            log.warning("no hold music for %s after its operator's seat was lost: %s", entry.key, err)
        await self.distribute_all()

    def _finish(self, call_id: str, disposition: str, cause: str, **fields: Any) -> None:
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in fields.items()}
        self._journal.call_updated(call_id, ended_at=datetime.now(UTC), disposition=disposition,
                                   hangup_cause=cause[:64], **rounded)

    async def _hangup_quietly(self, key: CallKey) -> None:
        try:
            await self._engine.hangup(key)
        except SipError as err:
            log.debug("hang-up of %s: %s", key, err)

    # -- plumbing ------------------------------------------------------------------------
    def _later(self, delay: float, fn: Any, *args: Any) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, self._wake, lambda: fn(*args))

    def _spawn(self, coro: Any) -> None:
        self._wake(lambda: coro)

    # -- what the API shows --------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Queues with waiting callers and longest wait, operators with state, active calls."""
        now = time.monotonic()
        queues = {name: {"waiting": len(entries),
                         "longest_wait_s": round(max((now - e.entered for e in entries), default=0.0), 1)}
                  for name, entries in self.waiting.items()}
        operators = [{"name": op.name, "extension": op.extension, "state": op.state.value,
                      "seat": op.seat.target if op.seat else None, "calls_taken": op.calls_taken}
                     for op in self.directory.operators.values()]
        return {"queues": queues, "operators": operators, "connected_calls": len(self._connections) // 2}
