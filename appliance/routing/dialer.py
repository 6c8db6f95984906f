"""Per-call failover: try a route's trunks one after the other until one carrier takes the call.

For each trunk in turn (down trunks and trunks at their channel limit skipped): send the INVITE
and wait at most `progress_timeout_s` (2 s, like Kamailio's fr_timer, not Timer B's 32 s) for
any provisional response. Silence means the carrier is gone: the attempt is cancelled (PJSIP
sends the CANCEL as soon as a provisional arrives, and a BYE if a 200 still comes) and the next
trunk is tried. A final response the route's policy names (408, 5xx, 6xx) tries the next trunk;
busy, wrong number or cancelled is the callee's answer and ends the call. Attempts run one at a
time, the previous one ended or cancelled first, so a callee is never rung through two carriers.
If every trunk is down, the down ones are tried anyway as a last resort: health checks can be
wrong (OPTIONS filtered while calls work), and a call that might connect beats one refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from appliance.errors import CapacityError, SipError
from appliance.routing.legs import Leg, LegWatch, wait_until
from appliance.routing.routes import Route
from appliance.sip.abc import CallKey, SipEngine
from appliance.trunks import TrunkService
from appliance.trunks.config import TrunkConfig

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Attempt:
    """One trunk tried for one call."""

    trunk: str
    outcome: str = ""  # answered, failover, timeout, error, final, no-answer, cancelled, skipped, capacity
    code: int = 0  # the final SIP status, or 0
    detail: str = ""
    leg: Leg | None = dataclasses.field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        """For the API: what happened, with timings from this attempt's INVITE."""
        leg = self.leg
        return {"trunk": self.trunk, "outcome": self.outcome, "code": self.code, "detail": self.detail,
                "first_response_ms": leg.ms(leg.responded) if leg else None,
                "ringing_ms": leg.ms(leg.ringing) if leg else None,
                "answered_ms": leg.ms(leg.answered) if leg else None}


@dataclasses.dataclass
class DialResult:
    """How the dial-out of one call ended."""

    attempts: list[Attempt]
    code: int  # 200 when answered, else the status passed back (486 busy, 503 all failed, ...)
    reason: str
    leg: Leg | None = None  # the answered leg
    trunk: str = ""
    setup_ms: int = 0

    @property
    def answered(self) -> bool:
        """Whether a carrier leg was answered."""
        return self.leg is not None


class Dialer:
    """Places outbound calls through trunks with failover."""

    def __init__(self, engine: SipEngine, trunks: TrunkService, legs: LegWatch) -> None:
        self._engine = engine
        self._trunks = trunks
        self._legs = legs

    async def dial(self, route: Route, number: str, wake: asyncio.Event, *, cancelled: Callable[[], bool],
                   caller_id: str = "", caller_name: str = "", headers: Sequence[tuple[str, str]] = (),
                   trunks: Sequence[str] | None = None) -> DialResult:
        """Dial `number` (rewritten by the route) through the route's trunks, or through `trunks`."""
        started = time.monotonic()
        dialled = route.rewrite(number)
        candidates = self._trunks.candidates(route.trunks if trunks is None else trunks)
        attempts = [Attempt(c.name, "skipped", detail=why) for c, why in candidates if why]
        usable = [c for c, why in candidates if not why] or [c for c, why in candidates if why == "down"]
        if not usable:
            return DialResult(attempts, 503, "no trunk can take the call", setup_ms=0)
        last: Attempt | None = None
        for index, config in enumerate(usable):
            if cancelled():
                break
            last = await self._attempt(config, dialled, route, wake, cancelled, caller_id, caller_name, headers)
            attempts.append(last)
            log.info("outbound %s via %s: %s %s %s", dialled, config.name, last.outcome, last.code or "", last.detail)
            if last.outcome == "answered" and last.leg is not None:
                return DialResult(attempts, 200, "OK", last.leg, config.name, _ms(started))
            if last.outcome not in ("failover", "timeout", "error"):
                break
            if index + 1 < len(usable):
                self._trunks.failed_over(config.name)
        return self._failed(attempts, last, started, cancelled())

    @staticmethod
    def _failed(attempts: list[Attempt], last: Attempt | None, started: float, cancelled: bool) -> DialResult:
        if cancelled or last is None or last.outcome == "cancelled":
            return DialResult(attempts, 487, "cancelled", setup_ms=_ms(started))
        if last.outcome == "final":
            return DialResult(attempts, last.code, last.detail, setup_ms=_ms(started))
        if last.outcome == "no-answer":
            return DialResult(attempts, 480, "no answer", setup_ms=_ms(started))
        if last.outcome == "capacity":
            return DialResult(attempts, 503, last.detail, setup_ms=_ms(started))
        return DialResult(attempts, 503, f"every carrier failed (last: {last.trunk}: {last.detail})",
                          setup_ms=_ms(started))

    async def _attempt(self, config: TrunkConfig, number: str, route: Route, wake: asyncio.Event,
                       cancelled: Callable[[], bool], caller_id: str, caller_name: str,
                       headers: Sequence[tuple[str, str]]) -> Attempt:
        attempt = Attempt(config.name)
        started = time.monotonic()
        try:
            key = await self._engine.dial(config.uri(number), caller_id or config.caller_id, caller_name,
                                          trunk=config.name, headers=headers)
        except CapacityError as err:
            attempt.outcome, attempt.code, attempt.detail = "capacity", 503, str(err)
            return attempt
        except SipError as err:
            attempt.outcome, attempt.detail = "error", f"not sent: {err}"
            self._trunks.attempt_ended(config.name, False, True, attempt.detail)
            return attempt
        leg = attempt.leg = self._legs.watch(key, wake, started)  # before any other await: no event is missed
        self._trunks.attempt_started(config.name, key)
        if not await wait_until(wake, lambda: leg.responded is not None or leg.ended is not None or cancelled(),
                                route.progress_timeout_s):
            attempt.outcome = "timeout"
            attempt.detail = f"no provisional response within {route.progress_timeout_s:g} s"
            await self._hangup(key, 0)
            self._trunks.attempt_ended(config.name, False, True, attempt.detail)
            await self._trunks.carrier_responded(config.name, False, f"unreachable: INVITE {attempt.detail}")
            return attempt
        if leg.responded is not None:
            await self._trunks.carrier_responded(config.name, True, "answered our INVITE")
        await wait_until(wake, lambda: leg.answered is not None or leg.ended is not None or cancelled(),
                         max(route.ring_timeout_s - (time.monotonic() - started), 0.0))
        return await self._settle(attempt, key, route, cancelled())

    async def _settle(self, attempt: Attempt, key: CallKey, route: Route, cancelled: bool) -> Attempt:
        leg = attempt.leg
        assert leg is not None
        if leg.answered is not None:
            attempt.outcome, attempt.code = "answered", 200
            self._trunks.attempt_ended(attempt.trunk, True, False)
        elif leg.ended is not None:
            attempt.code, attempt.detail = leg.ended.status_code, f"{leg.ended.status_code} {leg.ended.reason}".strip()
            carrier_failed = route.policy.fails_over(attempt.code)
            attempt.outcome = "failover" if carrier_failed else "final"
            self._trunks.attempt_ended(attempt.trunk, False, carrier_failed, attempt.detail)
        else:
            attempt.outcome = "cancelled" if cancelled else "no-answer"
            attempt.detail = "cancelled" if cancelled else f"no answer within {route.ring_timeout_s:g} s"
            await self._hangup(key, 0)
            self._trunks.attempt_ended(attempt.trunk, False, False)
        return attempt

    async def _hangup(self, key: CallKey, cause: int) -> None:
        try:
            await self._engine.hangup(key, cause)
        except SipError as err:
            log.debug("hang-up of %s: %s", key, err)


def _ms(since: float) -> int:
    return round((time.monotonic() - since) * 1000)
