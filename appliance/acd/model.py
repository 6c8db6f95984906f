"""Runtime state of queues, operators and the callers waiting in them (plain Python)."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from datetime import datetime

from appliance.sip.abc import CallKey


class OperatorState(enum.StrEnum):
    """Where an operator is in the call cycle."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    OFFLINE = "offline"


@dataclasses.dataclass
class Seat:
    """A device an operator takes calls on. Headsets and registered phones add their own kinds;
    each kind decides `present` from its own source (a fixed URI is always present)."""

    kind: str
    target: str
    enabled: bool = True
    present: bool = True

    @property
    def usable(self) -> bool:
        """Whether a call can be offered to this seat now."""
        return self.enabled and self.present and bool(self.target)


@dataclasses.dataclass
class Operator:
    """An operator as the queue manager sees them."""

    id: int
    name: str
    extension: str
    seats: list[Seat]
    state: OperatorState = OperatorState.AVAILABLE
    calls_taken: int = 0
    last_call_end: float = 0.0

    @property
    def seat(self) -> Seat | None:
        """The seat to ring: the first usable one in the admin's order of preference."""
        return next((seat for seat in self.seats if seat.usable), None)

    @property
    def free(self) -> bool:
        """Whether a call can be offered now."""
        return self.state is OperatorState.AVAILABLE and self.seat is not None


@dataclasses.dataclass
class QueueConfig:
    """How one queue treats its callers."""

    name: str
    strategy: str = "ringall"
    ring_timeout_s: float = 15.0
    retry_s: float = 2.0
    max_wait_s: float = 0.0
    wait_mode: str = "music"  # "music": answer and play hold music; "ringing": ringback until connected
    members: list[int] = dataclasses.field(default_factory=list)  # operator ids in order


@dataclasses.dataclass(eq=False)
class Offer:
    """One round of ringing operators for one waiting caller."""

    entry: QueueEntry
    legs: dict[CallKey, Operator] = dataclasses.field(default_factory=dict)
    started: float = 0.0
    closed: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclasses.dataclass(eq=False)
class QueueEntry:
    """A caller waiting in (or just leaving) a queue."""

    call_id: str  # the call record's id
    key: CallKey  # the caller's leg in the engine
    queue: str
    caller: str
    caller_name: str
    entered: float  # monotonic
    entered_at: datetime
    orig_position: int
    offer: Offer | None = None
    next_try: float = 0.0
    answered: bool = False
    timer: asyncio.TimerHandle | None = None
    segment: int = 0  # times the caller was put back after losing an operator's seat (one recording each)


@dataclasses.dataclass(eq=False)
class Connection:
    """A caller bridged to an operator."""

    entry: QueueEntry
    operator: Operator
    operator_key: CallKey
    connected: float  # monotonic
    hold_s: float
    bridge: str = ""
