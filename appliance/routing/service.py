"""The routing service: outbound routes, per-call failover, click-to-call and the carrier self-test.

The daemon's pump offers every engine event to `handle()` before the queue manager: legs that
routing placed, the self-test's calls coming back in, and recordings of its bridges are routing's;
anything else is not (False) and goes on to the queues.
"""

from __future__ import annotations

import logging

from appliance.acd.journal import CallJournal
from appliance.incidents import IncidentJournal
from appliance.recording import RecordingIndex
from appliance.routing.calls import OutboundCalls
from appliance.routing.dialer import Dialer
from appliance.routing.legs import LegWatch
from appliance.routing.routes import RouteTable, load_routes
from appliance.routing.selftest import SelfTest
from appliance.sip.abc import EngineEvent, IncomingCall, RecordingClosed, SipEngine
from appliance.trunks import TrunkService

log = logging.getLogger(__name__)


class RoutingService:
    """Everything outbound, wired together."""

    def __init__(self, engine: SipEngine, trunks: TrunkService, journal: CallJournal, incidents: IncidentJournal,
                 recordings: RecordingIndex | None = None) -> None:
        self.trunks = trunks
        self.routes = RouteTable()
        self.legs = LegWatch()
        self.dialer = Dialer(engine, trunks, self.legs)
        self.calls = OutboundCalls(engine, self.dialer, self.legs, lambda: self.routes, journal, recordings)
        self.selftest = SelfTest(engine, trunks, self.dialer, incidents)
        self._recordings = recordings

    async def load(self) -> None:
        """(Re)read the routes and the self-test schedule."""
        self.routes = await load_routes()
        await self.selftest.load_plan()
        log.info("outbound routes loaded: %s", ", ".join(r.name for r in self.routes.routes) or "default (all trunks)")

    async def handle(self, event: EngineEvent) -> bool:
        """Take the events that belong to routing; False for every other event."""
        if isinstance(event, IncomingCall):
            return await self.selftest.claim(event)
        if isinstance(event, RecordingClosed):
            call_id = self.calls.bridges.pop(event.bridge_key, None)
            if call_id is None:
                return False
            if event.path is not None and self._recordings is not None:
                self._recordings.add(call_id, event.path)
            return True
        return self.legs.handle(event)

    async def stop(self) -> None:
        """End outbound calls and self-tests (before the engine stops)."""
        await self.selftest.stop()
        await self.calls.stop()
