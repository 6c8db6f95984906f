"""Carrier self-test: call our own numbers through each carrier and see the calls come back in.

For every ordered pair of trunks (X, Y), X ≠ Y, where Y has a number to call (its `test_number`,
else its first DID): dial Y's number out through X only, marked with an `X-Callbox-Test` token
header and X's caller ID, and wait for that call to arrive. It is recognised by the token (when the
carriers pass SIP headers through) or, failing that, by the dialled number and our own caller ID
while exactly one test waits for it. An arrival is refused (486) and the outgoing leg cancelled:
the test calls are never answered, so they cost nothing. Each pair passes (arrived on Y, with the
time from INVITE to arrival) or fails with the reason; a failing pair opens a "selftest"
incident, which the next pass closes. Pairs run one at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from appliance.errors import SipError, UserError
from appliance.incidents import IncidentJournal
from appliance.routing.dialer import Attempt, Dialer
from appliance.routing.policy import FailoverPolicy
from appliance.routing.routes import Route
from appliance.sip.abc import IncomingCall, SipEngine
from appliance.sip.sipmsg import TEST_HEADER
from appliance.storage import Did
from appliance.storage.models import SelfTestPlan, SelfTestResult
from appliance.trunks import TrunkService

log = logging.getLogger(__name__)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def same_number(a: str, b: str) -> bool:
    """Whether two renderings of a number agree on their last 7 to 9 digits (+7495..., 8495..., 495...)."""
    da, db = _digits(a), _digits(b)
    if da and da == db:
        return True
    tail = min(len(da), len(db), 9)  # the subscriber part, past any country code or trunk prefix
    return tail >= 7 and da[-tail:] == db[-tail:]


@dataclasses.dataclass
class PendingTest:
    """One pair waiting for its call to arrive."""

    marker: str
    source: str  # X: the trunk the call goes out through
    target: str  # Y: the trunk whose number is called
    number: str
    caller_id: str
    started: float = dataclasses.field(default_factory=time.monotonic)
    wake: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    arrived: float | None = None
    arrived_on: str | None = None


def _failure(source: str, target: str, last: Attempt | None, wait_s: float) -> str:
    """Why a test call did not come back, in the words of its last attempt."""
    outcome = last.outcome if last else ""
    if last is not None and outcome in ("final", "failover"):
        return f"{source} refused the call: {last.detail}"
    if last is not None and outcome in ("timeout", "error", "skipped", "capacity"):
        return f"{source}: {last.detail}"
    return f"{source} took the call but it did not arrive on {target} within {wait_s:g} s"


class SelfTest:
    """Runs the matrix on demand and on a schedule, and recognises its calls coming back."""

    def __init__(self, engine: SipEngine, trunks: TrunkService, dialer: Dialer, incidents: IncidentJournal) -> None:
        self._engine = engine
        self._trunks = trunks
        self._dialer = dialer
        self._incidents = incidents
        self._pending: dict[str, PendingTest] = {}
        self._lock = asyncio.Lock()
        self.running: str | None = None  # run id
        self._schedule: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # -- arrivals -----------------------------------------------------------------------
    async def claim(self, event: IncomingCall) -> bool:
        """An INVITE came in: if it is one of our test calls, note its arrival and refuse it."""
        test = self._pending.get(event.test_marker) if event.test_marker else None
        if test is None and not event.test_marker:
            matches = [t for t in self._pending.values() if t.arrived is None
                       and any(same_number(t.number, n) for n in (event.request_user, event.to_user) if n)
                       and (not t.caller_id or same_number(t.caller_id, event.from_user))]
            test = matches[0] if len(matches) == 1 else None
        if test is None and not event.test_marker:
            return False
        if test is None:
            log.info("a self-test call arrived after its test ended (%s): refused", event.test_marker)
        elif test.arrived is None:
            test.arrived, test.arrived_on = time.monotonic(), self._trunks.match_source(event.source_ip)
            test.wake.set()
        try:
            await self._engine.reject(event.key, 486, "Self-test call")
        except SipError as err:
            log.debug("self-test arrival %s: %s", event.key, err)
        return True

    # -- runs ----------------------------------------------------------------------------
    async def start_run(self) -> str:
        """Start a run in the background; returns its id (UserError when one is running or impossible)."""
        if self.running is not None:
            raise UserError(f"a self-test is running already ({self.running})")
        await self._pairs()
        run_id = str(uuid.uuid4())
        self.running = run_id
        task = asyncio.create_task(self._guarded(run_id), name="selftest")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return run_id

    async def _guarded(self, run_id: str) -> None:
        try:
            await self.run(run_id)
        except UserError as err:
            log.warning("self-test not run: %s", err)
        except Exception:
            log.exception("self-test run %s crashed", run_id)

    async def run(self, run_id: str | None = None) -> list[SelfTestResult]:
        """Test every pair, one after the other; the results are stored and returned."""
        run_id = run_id or str(uuid.uuid4())
        async with self._lock:
            self.running = run_id
            try:
                pairs = await self._pairs()
                plan = await SelfTestPlan.first()
                timeout = plan.timeout_s if plan else 20.0
                return [await self._pair(run_id, x, y, number, timeout) for x, y, number in pairs]
            finally:
                self.running = None

    async def _pairs(self) -> list[tuple[str, str, str]]:
        """(X, Y, number) for every pair to test; UserError when there is none."""
        targets = await self._targets()
        pairs = [(x.name, y, n) for x in self._trunks.configs() for y, n in targets.items() if x.name != y]
        if not pairs:
            raise UserError("the self-test needs two trunks and a number to call on at least one "
                            "(the trunk's test number, or a DID of it)")
        return pairs

    async def _targets(self) -> dict[str, str]:
        targets = {c.name: c.test_number for c in self._trunks.configs() if c.test_number}
        loaded = {c.name for c in self._trunks.configs()}
        dids = Did.filter(trunk_id__isnull=False).exclude(number="*").prefetch_related("trunk").order_by("id")
        for did in await dids:
            if did.trunk is not None and did.trunk.name in loaded:
                targets.setdefault(did.trunk.name, did.number)
        return targets

    async def _pair(self, run_id: str, source: str, target: str, number: str, wait_s: float) -> SelfTestResult:
        config = self._trunks.config(source)
        test = PendingTest(secrets.token_hex(8), source, target, number, config.caller_id if config else "")
        self._pending[test.marker] = test
        started_at = datetime.now(UTC)
        route = Route(f"selftest {source}", policy=FailoverPolicy(frozenset()), ring_timeout_s=wait_s)
        try:
            result = await self._dialer.dial(route, number, test.wake, cancelled=lambda: test.arrived is not None,
                                             headers=[(TEST_HEADER, test.marker)], trunks=[source])
            if result.leg is not None and result.leg.ended is None:  # answered but never came back to us
                await self._engine.hangup(result.leg.key)
        finally:
            self._pending.pop(test.marker, None)
        ok = test.arrived is not None and test.arrived_on == target
        if test.arrived is not None:
            setup: int | None = round((test.arrived - test.started) * 1000)
            cause = "" if ok else f"arrived on {test.arrived_on or 'an unknown source'} instead of {target}"
        else:
            setup = None
            cause = _failure(source, target, result.attempts[-1] if result.attempts else None, wait_s)
        row = await SelfTestResult.create(run_id=run_id, from_trunk=source, to_trunk=target, number=number, ok=ok,
                                          setup_ms=setup, cause=cause[:255], started_at=started_at)
        await self._journal(source, target, ok, cause)
        log.info("self-test %s -> %s (%s): %s %s", source, target, number, "pass" if ok else "FAIL", cause)
        return row

    async def _journal(self, source: str, target: str, ok: bool, cause: str) -> None:
        subject = f"{source} -> {target}"
        if ok:
            await self._incidents.close("selftest", subject, "self-test call went through again")
        else:
            await self._incidents.open("selftest", subject, f"self-test call failed: {cause}", severity="minor")

    # -- results and schedule ---------------------------------------------------------------
    async def matrix(self) -> dict[str, Any]:
        """The latest run: pass/fail and timing per carrier pair."""
        last = await SelfTestResult.all().order_by("-id").first()
        rows = await SelfTestResult.filter(run_id=last.run_id).order_by("id") if last else []
        return {"run_id": last.run_id if last else None, "running": self.running,
                "started_at": rows[0].started_at.isoformat() if rows else None,
                "pairs": [{"from": r.from_trunk, "to": r.to_trunk, "number": r.number, "ok": r.ok,
                           "setup_ms": r.setup_ms, "cause": r.cause} for r in rows]}

    async def load_plan(self) -> None:
        """(Re)start the schedule from the database's plan."""
        plan = await SelfTestPlan.first()
        if self._schedule is not None:
            self._schedule.cancel()
            self._schedule = None
        if plan is not None and plan.interval_min > 0:
            self._schedule = asyncio.create_task(self._every(plan.interval_min * 60.0), name="selftest-schedule")

    async def _every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self.running is None:
                try:
                    await self.start_run()
                except UserError as err:
                    log.warning("scheduled self-test not run: %s", err)

    async def stop(self) -> None:
        """Stop the schedule and any run."""
        tasks = [t for t in (self._schedule, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
