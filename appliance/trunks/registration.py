"""Registration that never gives up: every failed REGISTER is retried, with a backoff capped short.

pjsua2 retries a REGISTER only after 408/480/5xx/6xx, and by default after 300 s; Asterisk gives
up after 10 tries. Here any failure — a timeout, a 503, a 403 that the carrier may fix on its
side — schedules the next REGISTER: first after `first_s`, then twice as long each time up to
`cap_s`, for ever. A success resets the backoff. When probes show a carrier back after an outage,
the service asks for a REGISTER at once (`now`): a restarted registrar has lost our binding.
"""

from __future__ import annotations

import asyncio
import logging
import time

from appliance.errors import SipError
from appliance.sip.abc import SipEngine

log = logging.getLogger(__name__)


class RegistrationKeeper:
    """Schedules re-REGISTERs of registration trunks."""

    def __init__(self, engine: SipEngine, first_s: float = 5.0, cap_s: float = 30.0) -> None:
        self._engine = engine
        self.first_s, self.cap_s = first_s, cap_s
        self._delay: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._due: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._active: set[str] = set()  # trunks with a retry owed; `forget` ends it

    def failed(self, trunk: str) -> float:
        """A REGISTER failed: schedule the next one; returns the delay chosen."""
        delay = self._delay.get(trunk, 0.0)
        delay = self.first_s if delay == 0 else min(delay * 2, self.cap_s)
        self._delay[trunk] = delay
        self._schedule(trunk, delay)
        return delay

    def succeeded(self, trunk: str) -> None:
        """A REGISTER succeeded: the backoff starts over next time."""
        self._active.discard(trunk)
        self._delay.pop(trunk, None)
        self._cancel(trunk)

    def now(self, trunk: str) -> None:
        """REGISTER at once (the carrier is reachable again)."""
        self._schedule(trunk, 0.0)

    def next_in(self, trunk: str) -> float | None:
        """Seconds until the next scheduled REGISTER, or None."""
        due = self._due.get(trunk)
        return None if due is None else max(round(due - time.monotonic(), 1), 0.0)

    def forget(self, trunk: str) -> None:
        """The trunk is gone or no longer registers."""
        self._active.discard(trunk)
        self._delay.pop(trunk, None)
        self._cancel(trunk)

    def stop(self) -> None:
        """Cancel every scheduled REGISTER."""
        for trunk in list(self._timers):
            self._cancel(trunk)
        for task in self._tasks:
            task.cancel()

    def _schedule(self, trunk: str, delay: float) -> None:
        self._active.add(trunk)
        self._cancel(trunk)
        self._due[trunk] = time.monotonic() + delay
        self._timers[trunk] = asyncio.get_running_loop().call_later(delay, self._fire, trunk)

    def _cancel(self, trunk: str) -> None:
        timer = self._timers.pop(trunk, None)
        self._due.pop(trunk, None)
        if timer is not None:
            timer.cancel()

    def _fire(self, trunk: str) -> None:
        self._timers.pop(trunk, None)
        self._due.pop(trunk, None)
        task = asyncio.get_running_loop().create_task(self._register(trunk), name=f"register-{trunk}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _register(self, trunk: str) -> None:
        try:
            await self._engine.register(trunk)
            log.info("trunk %s: REGISTER sent", trunk)
        except SipError as err:
            # PJSIP refuses while an earlier REGISTER is still in flight (it times out after 32 s
            # and reports a failure, which schedules the next try); try again later regardless.
            log.info("trunk %s: REGISTER not sent now (%s); trying again later", trunk, err)
            if trunk in self._active and trunk not in self._timers:
                self._schedule(trunk, self._delay.get(trunk) or self.first_s)
