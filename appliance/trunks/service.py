"""Trunk service: loads trunks from the database into the engine and watches their health."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from appliance.incidents import HealthBoard, IncidentJournal
from appliance.sip.abc import RegistrationState, SipEngine, TrunkSpec
from appliance.storage import Trunk
from appliance.trunks.sources import SourceMap, parse_networks, resolve

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrunkStatus:
    """What the panel and API show of one trunk."""

    name: str
    kind: str
    host: str
    registered: bool | None = None  # None for IP-authenticated trunks
    last_code: int = 0
    last_error: str = ""
    calls_in: int = 0


class TrunkService:
    """The carriers the box talks to."""

    def __init__(self, engine: SipEngine, health: HealthBoard, journal: IncidentJournal) -> None:
        self._engine = engine
        self._health = health
        self._journal = journal
        self._sources = SourceMap([])
        self._status: dict[str, TrunkStatus] = {}

    async def load(self) -> None:
        """Read enabled trunks from the database and hand them to the engine."""
        trunks = await Trunk.filter(enabled=True).order_by("priority", "id")
        entries = []
        for trunk in trunks:
            networks = await resolve(trunk.host)
            try:
                networks += parse_networks(trunk.allowed_sources)
            except ValueError as err:
                log.error("trunk %s: allowed sources ignored: %s", trunk.name, err)
            entries.append((trunk.name, networks))
        self._sources = SourceMap(entries)
        old = self._status
        self._status = {t.name: old.get(t.name) or TrunkStatus(t.name, t.kind, t.host,
                                                               None if t.kind == "ip" else False)
                        for t in trunks}
        for name in set(old) - set(self._status):
            self._health.forget("trunk", name)
        await self._engine.set_trunks([self._spec(t) for t in trunks])
        log.info("trunks loaded: %s", ", ".join(t.name for t in trunks) or "none")

    @staticmethod
    def _spec(trunk: Trunk) -> TrunkSpec:
        return TrunkSpec(name=trunk.name, kind=trunk.kind, host=trunk.host, transport=trunk.transport,
                         username=trunk.username, password=trunk.password, realm=trunk.realm,
                         register_expiry_s=trunk.register_expiry_s)

    def match_source(self, address: str) -> str | None:
        """The trunk an INVITE from this address belongs to, or None (then it is refused)."""
        return self._sources.match(address)

    def count_call(self, trunk: str) -> None:
        """An inbound call arrived on a trunk."""
        if trunk in self._status:
            self._status[trunk].calls_in += 1

    async def on_registration(self, event: RegistrationState) -> None:
        """A REGISTER finished: update the trunk's state and its incidents."""
        status = self._status.get(event.trunk)
        if status is None:
            return
        status.registered, status.last_code = event.registered, event.status_code
        if not event.registered and event.expires_s == 0 and event.status_code // 100 == 2:
            return  # our own unregistration
        cause = "" if event.registered else f"registration failed: {event.status_code} {event.reason}"
        if cause:
            status.last_error = cause
        tracker = self._health.tracker("trunk", event.trunk, down_after=1, up_after=1)
        transition = tracker.observe(event.registered, cause or "registered")
        if transition is not None:
            log.info("trunk %s: %s -> %s (%s)", event.trunk, transition.old, transition.new, transition.cause)
            await self._journal.apply(transition)

    def status(self) -> list[dict[str, Any]]:
        """Every trunk's state for the API."""
        result = []
        for name, status in self._status.items():
            tracker = self._health.tracker("trunk", name, down_after=1, up_after=1)
            state = tracker.state.value if status.kind == "registration" else "up"
            result.append({**dataclasses.asdict(status), "state": state})
        return result
