"""The legs that routing owns (outbound attempts, operators' legs of outbound calls) and their events.

The daemon's pump hands every engine event to `LegWatch.handle` first; events of a watched leg
update it and wake whoever waits on it. A leg stays watched from its `dial` until its
`CallEnded`, so nothing about it is lost between a coroutine's awaits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from appliance.sip.abc import CallAnswered, CallEnded, CallKey, CallProgress, EngineEvent


@dataclasses.dataclass
class Leg:
    """What happened so far to one leg we placed (times are monotonic seconds)."""

    key: CallKey
    wake: asyncio.Event  # shared by every leg of one call: set on any change
    started: float = dataclasses.field(default_factory=time.monotonic)
    responded: float | None = None  # first provisional response
    ringing: float | None = None  # 180/183
    answered: float | None = None
    ended: CallEnded | None = None

    def ms(self, moment: float | None) -> int | None:
        """Milliseconds from the INVITE to `moment`."""
        return None if moment is None else round((moment - self.started) * 1000)


class LegWatch:
    """Watched legs by key."""

    def __init__(self) -> None:
        self._legs: dict[CallKey, Leg] = {}

    def watch(self, key: CallKey, wake: asyncio.Event, started: float | None = None) -> Leg:
        """Follow a leg we just placed."""
        leg = Leg(key, wake, started if started is not None else time.monotonic())
        self._legs[key] = leg
        return leg

    def owns(self, key: CallKey) -> bool:
        """Whether this leg is watched."""
        return key in self._legs

    def handle(self, event: EngineEvent) -> bool:
        """Apply an event to its leg; False when the leg is not ours."""
        leg = self._legs.get(getattr(event, "key", ""))
        if leg is None:
            return False
        now = time.monotonic()
        if isinstance(event, CallProgress):
            leg.responded = leg.responded or now
            if event.status_code in (180, 183):
                leg.ringing = leg.ringing or now
        elif isinstance(event, CallAnswered):
            leg.responded = leg.responded or now
            leg.answered = leg.answered or now
        elif isinstance(event, CallEnded):
            leg.ended = event
            del self._legs[leg.key]
        leg.wake.set()
        return True


async def wait_until(wake: asyncio.Event, done: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109 - a deadline that is part of the answer
    """Wait (at most `timeout` s) until `done()` holds, re-checking whenever `wake` is set."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        wake.clear()
        try:
            async with asyncio.timeout(remaining):
                await wake.wait()
        except TimeoutError:
            return done()
    return True
