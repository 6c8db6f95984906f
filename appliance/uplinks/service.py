"""The uplink service: probes every uplink, keeps its health, and moves traffic between uplinks.

One task per uplink runs a probe round every `interval_ms`: the kernel's view of the link
(carrier, address) first, then the probes bound to the uplink. Each round feeds the uplink's
`HealthTracker` (down after N failed rounds, up after M good ones). After each round the policy
decides; a switch moves the default route, flushes SIP/RTP conntrack state, tells the SIP engine
(re-register, re-INVITE calls) and is journalled as an incident with its cause and timings.

With one uplink, or without CAP_NET_ADMIN, the service only monitors: nothing is switched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import UTC, datetime
from typing import Any

from appliance.errors import CallboxError
from appliance.incidents import Health, HealthBoard, HealthTracker, IncidentJournal, Transition
from appliance.settings import SipSettings, UplinkSettings
from appliance.sip.abc import IpChangeEngine
from appliance.uplinks import conntrack
from appliance.uplinks.config import UplinkSpec, load_uplinks
from appliance.uplinks.metrics import Sample, Window
from appliance.uplinks.netlink import LinkState, RouteManager, has_net_admin
from appliance.uplinks.policy import Decision, UplinkView, decide
from appliance.uplinks.probe import probe

log = logging.getLogger(__name__)
KIND = "uplink"


@dataclasses.dataclass(frozen=True)
class Switch:
    """One move of the traffic from one uplink to another, with its timings."""

    at: datetime
    kind: str
    source: str
    target: str
    reason: str
    detection_ms: float  # last good probe of the failed uplink -> decision (failover only)
    switch_ms: float  # decision -> routes, conntrack and SIP engine done
    flushed: int  # conntrack entries deleted (-1: could not flush)


class UplinkService:
    """Every uplink of the box and which one carries the traffic."""

    def __init__(self, settings: UplinkSettings, sip: SipSettings, engine: IpChangeEngine,
                 health: HealthBoard, journal: IncidentJournal, ip_trunks: Any = None) -> None:
        self._settings, self._sip, self._engine = settings, sip, engine
        self._health, self._journal = health, journal
        self._ip_trunks = ip_trunks  # callable -> names of IP-authenticated trunks
        self._specs: list[UplinkSpec] = []
        self._links: dict[str, LinkState] = {}
        self._windows: dict[str, Window] = {}
        self._last_ok: dict[str, float] = {}
        self._routes: RouteManager | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self.active: str | None = None
        self.manage = False
        self.switches: list[Switch] = []

    async def start(self) -> None:
        """Load the uplinks and start probing them."""
        self._specs = await load_uplinks()
        if not self._specs:
            return
        self.manage = len(self._specs) > 1 and has_net_admin()
        if len(self._specs) > 1 and not self.manage:
            await self._journal.open(KIND, "routing", "two uplinks configured but the daemon lacks "
                                     "CAP_NET_ADMIN: monitoring only, no failover", severity="major")
        self._routes = RouteManager(self._specs)
        await self._routes.open()
        self.active = await self._current_active()
        for spec in self._specs:
            self._windows[spec.name] = Window()
            self._tracker(spec)
            self._tasks.append(asyncio.create_task(self._watch(spec), name=f"uplink-{spec.name}"))
        log.info("uplinks: %s (%s)", ", ".join(s.name for s in self._specs),
                 "failover on" if self.manage else "monitoring only")

    async def stop(self) -> None:
        """Stop probing; the routes stay as they are, so the box keeps its internet."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._routes is not None:
            await self._routes.close()

    async def reload(self) -> None:
        """The admin changed the uplinks: start over with the new set (routes stay until switched)."""
        await self.stop()
        if self.manage:  # the old tables and rules go; the default route stays until the next switch
            old = RouteManager(self._specs)
            await old.open()
            try:
                await old.remove()
            finally:
                await old.close()
        for spec in self._specs:
            self._health.forget(KIND, spec.name)
        self._specs, self._links, self._windows, self._last_ok = [], {}, {}, {}
        await self.start()

    async def _current_active(self) -> str | None:
        assert self._routes is not None
        interface = await self._routes.active_interface() if self.manage else ""
        return next((s.name for s in self._specs if s.interface == interface), None)

    def _tracker(self, spec: UplinkSpec) -> HealthTracker:
        return self._health.tracker(KIND, spec.name, self._settings.down_after, self._settings.up_after)

    async def _watch(self, spec: UplinkSpec) -> None:
        interval = self._settings.interval_ms / 1000
        while True:
            started = time.monotonic()
            try:
                await self._round(spec)
            except Exception:
                log.exception("uplink %s: probe round failed", spec.name)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def _round(self, spec: UplinkSpec) -> None:
        assert self._routes is not None
        link = self._links[spec.name] = await self._routes.link_state(spec)
        if self.manage:
            await self._routes.ensure(spec, link)
        ok, cause, rtt = await self._probe(spec, link)
        self._windows[spec.name].add(Sample(ok, rtt))
        if ok:
            self._last_ok[spec.name] = time.monotonic()
        transition = self._tracker(spec).observe(ok, cause)
        if transition is not None:
            log.info("uplink %s: %s -> %s (%s)", spec.name, transition.old, transition.new, transition.cause)
        async with self._lock:
            await self._decide(transition)

    async def _probe(self, spec: UplinkSpec, link: LinkState) -> tuple[bool, str, float]:
        if not link.exists:
            return False, f"interface {spec.interface} is gone", 0.0
        if not link.carrier:
            return False, f"link {spec.interface} is down (no carrier)", 0.0
        if not link.address:
            return False, f"{spec.interface} has no IPv4 address", 0.0
        timeout = self._settings.timeout_ms / 1000
        results = await asyncio.gather(*(probe(t, spec.interface, link.address, timeout) for t in spec.targets))
        good = [r for r in results if r.ok]
        if good:
            return True, "probes answered", min(r.rtt_ms for r in good)
        return False, "probes failed: " + ", ".join(f"{r.target} {r.error}" for r in results), 0.0

    def _views(self) -> list[UplinkView]:
        return [UplinkView(s.name, s.priority, (t := self._tracker(s)).state, t.since) for s in self._specs]

    async def _decide(self, transition: Transition | None) -> None:
        decision = decide(self.active, self._views(), datetime.now(UTC), self._settings.failback_hold_s,
                          self._engine.stats().calls, self._settings.failback_when_idle)
        if decision is not None and not self.manage:
            decision = None if self.active else decision  # monitoring: only remember the first healthy
            if decision is not None:
                self.active = decision.target
        if decision is not None and self.manage:
            await self._switch(decision)
        if transition is not None:
            await self._journal_transition(transition)

    async def _journal_transition(self, transition: Transition) -> None:
        waiting = transition.new is Health.UP and transition.subject != self.active and any(
            s.name == transition.subject and s.priority < self._spec(self.active).priority for s in self._specs
            if self.active)
        if waiting:
            await self._journal.note(KIND, transition.subject, f"up again at {transition.at:%H:%M:%S}; "
                                     f"failback after {self._settings.failback_hold_s} s stable")
        elif transition.new is Health.DOWN and transition.subject == self.active:
            await self._journal.apply(transition, "no healthy uplink to switch to")
        else:
            await self._journal.apply(transition)

    def _spec(self, name: str | None) -> UplinkSpec:
        return next(s for s in self._specs if s.name == name)

    async def _switch(self, decision: Decision) -> None:
        assert self._routes is not None
        source, target = self.active, self._spec(decision.target)
        last_ok = self._last_ok.get(source or "")
        detection_ms = (time.monotonic() - last_ok) * 1000 if decision.kind == "failover" and last_ok else 0.0
        started = time.monotonic()
        await self._routes.activate(target, self._links[target.name])
        flushed = 0
        if decision.kind != "initial":
            flushed = await conntrack.flush([self._sip.port, 5060])
            try:
                await self._engine.handle_ip_change()
            except CallboxError as err:
                log.error("uplink switch: the SIP engine could not follow: %s", err)
        switch_ms = (time.monotonic() - started) * 1000
        record = Switch(datetime.now(UTC), decision.kind, source or "", target.name, decision.reason,
                        detection_ms, switch_ms, flushed)
        self.switches = [*self.switches[-49:], record]
        self.active = target.name
        log.warning("uplink %s: %s -> %s (%s), detected in %.0f ms, switched in %.0f ms",
                    decision.kind, source, target.name, decision.reason, detection_ms, switch_ms)
        await self._journal_switch(record)

    async def _journal_switch(self, record: Switch) -> None:
        action = (f"switched to uplink {record.target} in {record.switch_ms:.0f} ms "
                  f"(conntrack: {record.flushed} flows flushed; SIP re-registered, calls re-INVITEd)")
        if record.kind == "failover":
            cause = (f"{record.reason}: {self._tracker(self._spec(record.source)).last_cause}; "
                     f"detected {record.detection_ms:.0f} ms after the last good probe")
            await self._journal.open(KIND, record.source, cause, action)
        elif record.kind == "failback":
            await self._journal.close(KIND, record.target, f"failback: {record.reason}; {action}")
        if record.kind != "initial":
            await self._flag_ip_trunks(record)

    async def _flag_ip_trunks(self, record: Switch) -> None:
        """IP-authenticated trunks whose carrier does not know the new uplink's address."""
        names = list(self._ip_trunks() if self._ip_trunks else [])
        old, new = self._spec(record.source), self._spec(record.target)
        for trunk in names:
            if trunk in new.ip_trunks:
                await self._journal.close("trunk", trunk, f"back on uplink {new.name}, an address it knows")
            elif trunk in old.ip_trunks:
                address = new.public_address or self._links[new.name].address
                await self._journal.open("trunk", trunk, f"uplink {new.name} ({address}) is not an address "
                                         f"carrier {trunk} knows: its calls may be refused", severity="minor")

    def status(self) -> dict[str, Any]:
        """Uplink states, latency and loss, the active uplink and the recent switches, for the API."""
        uplinks = []
        for spec in self._specs:
            link = self._links.get(spec.name)
            uplinks.append({"name": spec.name, "interface": spec.interface, "priority": spec.priority,
                            "active": spec.name == self.active, **self._tracker(spec).as_dict(),
                            "address": link.address if link else "", "gateway": link.gateway if link else "",
                            "carrier": link.carrier if link else None,
                            "targets": [str(t) for t in spec.targets], **self._windows[spec.name].summary()})
        return {"active": self.active, "failover": self.manage, "uplinks": uplinks,
                "switches": [{**dataclasses.asdict(s), "at": s.at.isoformat()} for s in self.switches]}
