"""The uplink service's switching, incidents, IP-trunk flags and API, with netlink and probes faked."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import httpx
import pytest

from appliance.auth import Auth
from appliance.daemon import Services
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.settings import DataSettings, Settings, SipSettings, UplinkSettings
from appliance.sip.fake import FakeEngine
from appliance.storage import Database, Incident
from appliance.storage.models import Uplink
from appliance.uplinks import conntrack
from appliance.uplinks import service as service_module
from appliance.uplinks.config import UplinkSpec
from appliance.uplinks.netlink import LinkState
from appliance.uplinks.probe import ProbeResult
from web.app import create_app


class FakeRoutes:
    """Links that are always up; remembers which uplink was activated."""

    activated: list[str]

    def __init__(self, specs: list[UplinkSpec]) -> None:
        self.specs, FakeRoutes.activated = specs, []

    async def open(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to close."""

    async def link_state(self, spec: UplinkSpec) -> LinkState:
        """Up, with an address per uplink."""
        return LinkState(True, True, f"10.{spec.interface[-1]}.0.2", spec.gateway)

    async def ensure(self, spec: UplinkSpec, state: LinkState) -> None:
        """Tables are always in place."""

    async def activate(self, spec: UplinkSpec, state: LinkState) -> None:
        """Record the switch."""
        FakeRoutes.activated.append(spec.name)

    async def active_interface(self) -> str:
        """No route of ours at start."""
        return ""


@pytest.fixture
def alive(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Whether probes through each uplink's source address answer; edit it to cut an uplink."""
    state = {"10.1.0.2": True, "10.2.0.2": True}

    async def probe(target: Any, interface: str, source: str, limit_s: float) -> ProbeResult:
        return ProbeResult(str(target), state[source], 1.0, "" if state[source] else "timeout")

    async def flush(ports: list[int], all_udp: bool = True) -> int:
        return 3

    monkeypatch.setattr(service_module, "RouteManager", FakeRoutes)
    monkeypatch.setattr(service_module, "probe", probe)
    monkeypatch.setattr(service_module, "has_net_admin", lambda: True)
    monkeypatch.setattr(conntrack, "flush", flush)
    return state


async def test_failover_failback_incidents_and_ip_trunk_flags(db: Database, alive: dict[str, bool]) -> None:
    """Down after 2 rounds -> switch, engine told, incidents; back after 2 good rounds and the hold."""
    await Uplink.create(name="wan1", interface="wan1", gateway="10.1.0.1", priority=1,
                        probe_targets="icmp:198.51.100.10", ip_trunks="carrier-a")
    await Uplink.create(name="wan2", interface="wan2", gateway="10.2.0.1", priority=2,
                        probe_targets="icmp:198.51.100.10")
    engine = FakeEngine()
    uplinks = service_module.UplinkService(
        UplinkSettings(interval_ms=3_600_000, down_after=2, up_after=2, failback_hold_s=0), SipSettings(), engine,
        HealthBoard(), IncidentJournal(), ip_trunks=lambda: ["carrier-a"])
    await uplinks.start()
    try:
        wan1, wan2 = uplinks._specs
        for spec in (wan1, wan2):
            await uplinks._round(spec)
        assert uplinks.active == "wan1" and FakeRoutes.activated == ["wan1"]
        assert getattr(engine, "ip_changes", 0) == 0  # the first choice is no change of path

        alive["10.1.0.2"] = False
        await uplinks._round(wan1)
        assert uplinks.active == "wan1"  # one lost round only degrades
        await uplinks._round(wan1)
        assert uplinks.active == "wan2" and FakeRoutes.activated == ["wan1", "wan2"]
        assert engine.ip_changes == 1
        incident = await Incident.get(kind="uplink", subject="wan1")
        assert incident.ended_at is None and "probes failed" in incident.cause
        assert "switched to uplink wan2" in incident.action and "3 flows flushed" in incident.action
        flagged = await Incident.get(kind="trunk", subject="carrier-a")
        assert flagged.ended_at is None and "not an address" in flagged.cause

        alive["10.1.0.2"] = True
        await uplinks._round(wan1)
        await uplinks._round(wan1)
        assert uplinks.active == "wan1" and engine.ip_changes == 2
        assert [s.kind for s in uplinks.switches] == ["initial", "failover", "failback"]
        await incident.refresh_from_db()
        await flagged.refresh_from_db()
        assert incident.ended_at is not None and "failback" in incident.action
        assert flagged.ended_at is not None
        status = uplinks.status()
        assert status["active"] == "wan1" and status["uplinks"][0]["loss_pct"] > 0
    finally:
        await uplinks.stop()


async def test_one_uplink_only_monitors(db: Database, alive: dict[str, bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """A single uplink, or no CAP_NET_ADMIN, never touches routes; without the capability an incident says so."""
    monkeypatch.setattr(service_module, "has_net_admin", lambda: False)
    for n in (1, 2):
        await Uplink.create(name=f"wan{n}", interface=f"wan{n}", gateway=f"10.{n}.0.1", priority=n,
                            probe_targets="icmp:198.51.100.10")
    engine = FakeEngine()
    uplinks = service_module.UplinkService(UplinkSettings(interval_ms=3_600_000, down_after=1), SipSettings(),
                                           engine, HealthBoard(), IncidentJournal())
    await uplinks.start()
    try:
        alive["10.1.0.2"] = False
        for spec in uplinks._specs:
            await uplinks._round(spec)
        assert FakeRoutes.activated == [] and not uplinks.manage
        assert getattr(engine, "ip_changes", 0) == 0
        assert await Incident.get_or_none(kind="uplink", subject="routing") is not None
        assert await Incident.get_or_none(kind="uplink", subject="wan1") is not None  # still journalled
    finally:
        await uplinks.stop()


async def test_the_api_shows_and_replaces_uplinks(db: Database, alive: dict[str, bool], tmp_path: Path) -> None:
    """GET for supervisors, PUT for admins only; a bad document changes nothing; a good one reloads."""
    settings = Settings(data=DataSettings(dir=tmp_path / "data"))
    engine = FakeEngine()
    health, journal = HealthBoard(), IncidentJournal()
    uplinks = service_module.UplinkService(UplinkSettings(interval_ms=3_600_000), SipSettings(), engine, health,
                                           journal)
    services = Services(settings, engine, MagicMock(), MagicMock(), health, journal)  # the panel's other areas
    services.uplinks = uplinks
    auth = Auth(settings.data.dir)
    bearer = {role: {"Authorization": "Bearer " + (await auth.tokens.create({"name": role, "role": role}, "t"))[1]}
              for role in ("admin", "supervisor")}
    document = {"uplinks": [
        {"name": "wan1", "interface": "wan1", "gateway": "10.1.0.1", "priority": 1,
         "probe_targets": "icmp:198.51.100.10"},
        {"name": "lte", "interface": "wan2", "priority": 2, "probe_targets": "tcp:198.51.100.10:443"}]}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services, auth)),
                                     base_url="http://box") as client:
            assert (await client.get("/api/v1/uplinks")).status_code == 401
            assert (await client.put("/api/v1/uplinks", json=document, headers=bearer["supervisor"])).status_code == 403
            bad = {"uplinks": [{"name": "x", "interface": "eth9", "probe_targets": "http:1.2.3.4"}]}
            response = await client.put("/api/v1/uplinks", json=bad, headers=bearer["admin"])
            assert response.status_code == 400 and "kind must be" in response.text
            assert await Uplink.all().count() == 0
            response = await client.put("/api/v1/uplinks", json=document, headers=bearer["admin"])
            assert response.status_code == 200, response.text
            assert [u["name"] for u in response.json()["uplinks"]] == ["wan1", "lte"]
            shown = (await client.get("/api/v1/uplinks", headers=bearer["supervisor"])).json()
            assert shown["failover"] is True and shown["uplinks"][1]["targets"] == ["tcp:198.51.100.10:443"]
    finally:
        await uplinks.stop()
