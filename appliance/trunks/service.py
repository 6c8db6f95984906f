"""Trunk service: loads trunks into the engine, watches their health, counts their channels and calls.

Health comes from SIP OPTIONS probes (`monitor.py`), REGISTER outcomes and the carrier's answers
to our INVITEs, judged with hysteresis per trunk (`health.py`); every transition to and from
`down` opens or closes a "trunk" incident that says what the box did about it. The router asks
`candidates()` which trunks to try, in which order, and which to skip (down, or at their channel
limit), and reports each attempt back for the statistics the panel shows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from appliance.incidents import Health, HealthBoard, IncidentJournal, Transition
from appliance.sip.abc import CallEnded, CallKey, EngineEvent, IncomingCall, RegistrationState, SipEngine
from appliance.sip.probe import ProbeResult, probe
from appliance.storage import Trunk
from appliance.trunks.config import TrunkConfig
from appliance.trunks.health import TrunkHealth
from appliance.trunks.monitor import ProbeFn, TrunkProber
from appliance.trunks.registration import RegistrationKeeper
from appliance.trunks.sources import SourceMap, parse_networks, resolve

log = logging.getLogger(__name__)
_REFUSALS = {401: "the carrier rejects our credentials: check the username, password and realm",
             403: "the carrier rejects our credentials: check the username, password and realm",
             404: "the carrier does not know this account: check the username and the host",
             407: "the carrier rejects our credentials: check the username, password and realm"}


@dataclasses.dataclass
class TrunkStatus:
    """What the panel and API show of one trunk, besides its health."""

    name: str
    kind: str
    host: str
    registered: bool | None = None  # None for IP-authenticated trunks
    last_code: int = 0
    last_error: str = ""
    calls_in: int = 0
    calls_out: int = 0  # outbound attempts through this trunk
    answered: int = 0
    failures: int = 0  # attempts the carrier failed: 408/5xx/6xx, silence, transport errors
    failovers: int = 0  # calls moved from this trunk to the next one
    last_probe: str = ""
    last_probe_at: str = ""
    rtt_ms: float | None = None


class TrunkService:
    """The carriers the box talks to."""

    def __init__(self, engine: SipEngine, health: HealthBoard, journal: IncidentJournal, *,
                 probe_fn: ProbeFn = probe, register_first_s: float = 5.0, register_cap_s: float = 30.0) -> None:
        self._engine = engine
        self._board = health
        self._journal = journal
        self._sources = SourceMap([])
        self._status: dict[str, TrunkStatus] = {}
        self._configs: dict[str, TrunkConfig] = {}
        self._health: dict[str, TrunkHealth] = {}
        self._channels: dict[CallKey, str] = {}
        self._in_use: dict[str, int] = {}
        self._registered_once: set[str] = set()  # probing of a registration trunk starts after its first REGISTER
        self._prober = TrunkProber(self.on_probe, probe_fn)
        self.keeper = RegistrationKeeper(engine, register_first_s, register_cap_s)
        self._journal_lock = asyncio.Lock()  # incidents are written in the order transitions happened
        self._random = random.Random()  # noqa: S311 - load sharing, not security

    # -- configuration -------------------------------------------------------------------
    async def load(self) -> None:
        """Read enabled trunks from the database, hand them to the engine, (re)start their probes."""
        rows = await Trunk.filter(enabled=True).order_by("priority", "id")
        entries = []
        for row in rows:
            networks = await resolve(row.host)
            try:
                networks += parse_networks(row.allowed_sources)
            except ValueError as err:
                log.error("trunk %s: allowed sources ignored: %s", row.name, err)
            entries.append((row.name, networks))
        self._sources = SourceMap(entries)
        self._configs = {row.name: TrunkConfig.from_row(row) for row in rows}
        old = self._status
        self._status = {c.name: old.get(c.name) or TrunkStatus(c.name, c.kind, c.host, False if c.registers else None)
                        for c in self._configs.values()}
        for name in set(old) - set(self._status):
            self._board.forget("trunk", name)
            self._health.pop(name, None)
            self.keeper.forget(name)
        for c in self._configs.values():
            self._status[c.name].kind, self._status[c.name].host = c.kind, c.host
            if c.name in self._health:
                self._health[c.name].configure(c.down_after, c.up_after, c.registers, c.probes)
            else:
                tracker = self._board.tracker("trunk", c.name, c.down_after, c.up_after)
                self._health[c.name] = TrunkHealth(tracker, c.down_after, c.up_after, c.registers, c.probes)
                if not (c.probes or c.registers):  # nothing will ever tell: take it as working
                    self._health[c.name].observe(True, "not probed")
        await self._engine.set_trunks([c.spec() for c in self._configs.values()])
        self._update_probes()
        log.info("trunks loaded: %s", ", ".join(self._configs) or "none")

    def _update_probes(self) -> None:
        self._prober.update({c.name: (c.host, c.probe_interval_s, c.probe_timeout_s)
                             for c in self._configs.values()
                             if c.probes and (not c.registers or c.name in self._registered_once)})

    async def stop(self) -> None:
        """Stop probing and re-registering (the engine unregisters on its own shutdown)."""
        self.keeper.stop()
        await self._prober.stop()

    def config(self, name: str) -> TrunkConfig | None:
        """A loaded (enabled) trunk's configuration."""
        return self._configs.get(name)

    def configs(self) -> list[TrunkConfig]:
        """Every loaded trunk, by priority."""
        return list(self._configs.values())

    def state(self, name: str) -> Health:
        """A trunk's health now (unknown for a trunk not loaded)."""
        health = self._health.get(name)
        return health.state if health else Health.UNKNOWN

    # -- inbound -------------------------------------------------------------------------
    def match_source(self, address: str) -> str | None:
        """The trunk an INVITE from this address belongs to, or None (then it is refused)."""
        return self._sources.match(address)

    def count_call(self, trunk: str) -> None:
        """An inbound call arrived on a trunk."""
        if trunk in self._status:
            self._status[trunk].calls_in += 1

    def observe(self, event: EngineEvent) -> None:
        """Every engine event passes here first: inbound legs hold a channel of their trunk."""
        if isinstance(event, IncomingCall):
            trunk = self.match_source(event.source_ip)
            if trunk is not None:
                self.open_channel(trunk, event.key)
        elif isinstance(event, CallEnded):
            trunk = self._channels.pop(event.key, None)
            if trunk is not None:
                self._in_use[trunk] = max(self._in_use.get(trunk, 1) - 1, 0)

    def open_channel(self, trunk: str, key: CallKey) -> None:
        """A leg on this trunk is up (or being set up); `CallEnded` frees its channel."""
        if key not in self._channels:
            self._channels[key] = trunk
            self._in_use[trunk] = self._in_use.get(trunk, 0) + 1

    def channels(self, trunk: str) -> int:
        """Legs on this trunk now."""
        return self._in_use.get(trunk, 0)

    # -- routing -------------------------------------------------------------------------
    def candidates(self, names: Sequence[str] = ()) -> list[tuple[TrunkConfig, str]]:
        """Trunks to try in order, each with why it must be skipped ("" = usable).

        A route's own list keeps its order; without one, every trunk by priority, and trunks of
        equal priority in a random order weighted by their weights.
        """
        if names:
            order = [self._configs[n] for n in names if n in self._configs]
        else:
            order = []
            for priority in sorted({c.priority for c in self._configs.values()}):
                order += self._weighted([c for c in self._configs.values() if c.priority == priority])
        return [(c, self.skip_reason(c)) for c in order]

    def skip_reason(self, config: TrunkConfig) -> str:
        """Why a trunk cannot take a call now, or ""."""
        if self.state(config.name) is Health.DOWN:
            return "down"
        if config.max_channels and self.channels(config.name) >= config.max_channels:
            return f"at its channel limit ({config.max_channels})"
        return ""

    def _weighted(self, group: list[TrunkConfig]) -> list[TrunkConfig]:
        pool, order = list(group), []
        while pool:
            weights = [max(c.weight, 0) for c in pool]
            pick = self._random.choices(pool, weights)[0] if sum(weights) > 0 else pool[0]
            order.append(pick)
            pool.remove(pick)
        return order

    def attempt_started(self, trunk: str, key: CallKey) -> None:
        """An outbound INVITE went out through this trunk."""
        self.open_channel(trunk, key)
        if trunk in self._status:
            self._status[trunk].calls_out += 1

    def attempt_ended(self, trunk: str, answered: bool, carrier_failed: bool, cause: str = "") -> None:
        """How an outbound attempt through this trunk ended."""
        status = self._status.get(trunk)
        if status is None:
            return
        if answered:
            status.answered += 1
        elif carrier_failed:
            status.failures += 1
            status.last_error = cause

    def failed_over(self, trunk: str) -> None:
        """A call left this trunk for the next one."""
        if trunk in self._status:
            self._status[trunk].failovers += 1

    async def carrier_responded(self, trunk: str, responded: bool, cause: str) -> None:
        """Our INVITE got an answer (or none in time): the same evidence as a probe."""
        health = self._health.get(trunk)
        if health is not None:
            await self._apply(trunk, health.observe(responded, cause))

    # -- health --------------------------------------------------------------------------
    async def on_probe(self, trunk: str, result: ProbeResult) -> None:
        """An OPTIONS probe finished."""
        status, health = self._status.get(trunk), self._health.get(trunk)
        if status is None or health is None:
            return
        status.last_probe, status.rtt_ms = result.describe(), result.rtt_ms
        status.last_probe_at = datetime.now(UTC).isoformat(timespec="seconds")
        cause = result.describe() if result.alive else f"unreachable: {result.describe()}"
        await self._apply(trunk, health.observe(result.alive, cause))

    async def on_registration(self, event: RegistrationState) -> None:
        """A REGISTER finished: update the trunk's state, retry failures, open or close incidents."""
        status, health = self._status.get(event.trunk), self._health.get(event.trunk)
        if status is None or health is None:
            return
        status.registered, status.last_code = event.registered, event.status_code
        if not event.registered and event.expires_s == 0 and event.status_code // 100 == 2:
            return  # our own unregistration
        if event.registered:
            self.keeper.succeeded(event.trunk)
            transition = health.registration(True, False, f"registered ({event.status_code})")
        else:
            delay = self.keeper.failed(event.trunk)
            advice = _REFUSALS.get(event.status_code)
            what = f"registration refused: {event.status_code} {event.reason}" if advice else \
                f"registration failed: {event.status_code} {event.reason}"
            status.last_error = f"{what}" + (f" - {advice} of trunk {event.trunk}" if advice else "") + \
                f"; retrying every {self.keeper.cap_s:g} s at most (next in {delay:g} s)"
            transition = health.registration(False, advice is not None, status.last_error)
        if event.trunk not in self._registered_once:
            self._registered_once.add(event.trunk)
            self._update_probes()
        await self._apply(event.trunk, transition, by_registration=True)

    async def _apply(self, trunk: str, transition: Transition | None, by_registration: bool = False) -> None:
        if transition is None:
            return
        log.info("trunk %s: %s -> %s (%s)", trunk, transition.old, transition.new, transition.cause)
        config = self._configs.get(trunk)
        refused = self._health[trunk].refusal if trunk in self._health else ""
        async with self._journal_lock:
            if transition.new is Health.DOWN:
                cause = refused or f"{transition.cause} ({self._health[trunk].failures()} failures in a row)"
                await self._journal.open("trunk", trunk, cause, self._moved_to(trunk),
                                         severity="critical" if refused else "major")
            elif transition.new is Health.UP and transition.old in (Health.DOWN, Health.UNKNOWN):
                await self._journal.close("trunk", trunk, f"{transition.cause}; outbound calls use it again")
        if transition.new is Health.UP and transition.old is Health.DOWN and config and config.registers \
                and not by_registration:
            self.keeper.now(trunk)  # a carrier back from an outage may have lost our registration

    def _moved_to(self, trunk: str) -> str:
        others = [c.name for c in self._configs.values() if c.name != trunk and self.state(c.name) is not Health.DOWN]
        if others:
            return f"outbound calls moved to {', '.join(others)}"
        return "no other carrier is up: outbound calls fail until one is back"

    def status(self) -> list[dict[str, Any]]:
        """Every trunk's state, statistics and configuration for the panel and API."""
        result = []
        for name, status in self._status.items():
            config, health = self._configs.get(name), self._health.get(name)
            tracker = health.board if health else self._board.tracker("trunk", name)
            extra: dict[str, Any] = {}
            if config is not None:
                extra = {"priority": config.priority, "weight": config.weight, "max_channels": config.max_channels,
                         "probing": config.probes, "probe_interval_s": config.probe_interval_s,
                         "caller_id": config.caller_id, "test_number": config.test_number}
            result.append({**dataclasses.asdict(status), "state": tracker.state.value,
                           "since": tracker.since.isoformat(timespec="seconds"),
                           "cause": tracker.last_cause if tracker.state is not Health.UP else "",
                           "channels": self.channels(name), "next_register_s": self.keeper.next_in(name), **extra})
        return result
