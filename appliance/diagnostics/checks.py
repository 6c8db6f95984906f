"""The checklist a person would go through, done by the box, and a one-click problem report.

Each line says whether a thing works, since when it does not, and what the box already did
about it (the open incident's action). Running the checks now re-measures what can be measured
on the spot (the engine, the disk) and feeds the health model, so a full disk opens an incident
like a failed carrier does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.storage import Incident

if TYPE_CHECKING:
    from appliance.daemon import Services

DISK_DOWN_FREE = 0.05  # below 5 % free, new recordings are at risk
DISK_WARN_FREE = 0.15
_STATE = {"up": "ok", "degraded": "warning", "down": "down", "unknown": "unknown"}


@dataclasses.dataclass
class Check:
    """One line of the checklist."""

    kind: str  # "engine", "uplink", "carrier", "seat", "disk", "cloud"
    subject: str
    state: str  # "ok", "warning", "down", "unknown", "not configured"
    summary: str
    since: datetime | None = None
    action: str = ""


class Checkup:
    """Runs the checklist against the live services."""

    def __init__(self, services: Services) -> None:
        self._s = services
        self.last_run: datetime | None = None

    async def run(self, measure: bool = False) -> list[Check]:
        """The checklist; with `measure`, re-measure the disk and record transitions as incidents."""
        if measure:
            await self._measure_disk()
            self.last_run = datetime.now(UTC)
        open_incidents = {(i.kind, i.subject): i for i in await Incident.filter(ended_at__isnull=True)}
        checks = [self._engine(), *self._tracked("uplink", "uplink"), *self._carriers(), *self._seats(),
                  self._disk(), *self._tracked("cloud", "cloud link")]
        for check in checks:
            incident = open_incidents.get((check.kind if check.kind != "carrier" else "trunk", check.subject))
            if incident is not None:
                check.since = check.since or incident.started_at
                check.action = incident.action or "opened an incident; watching for recovery"
        return checks

    def _engine(self) -> Check:
        stats = self._s.engine.stats()
        if not stats.running:
            return Check("engine", "SIP engine", "down", "The SIP engine is not running: no calls are possible.")
        return Check("engine", "SIP engine", "ok", f"{stats.calls} of {stats.max_calls} call legs in use.")

    def _tracked(self, kind: str, label: str) -> list[Check]:
        trackers = [t for t in self._s.health if t.kind == kind]
        if not trackers:
            return [Check(kind, label, "not configured", f"No {label} is monitored on this box yet.")]
        return [Check(kind, t.subject, _STATE[t.state.value], t.last_cause or t.state.value,
                      t.since if t.state.value != "up" else None) for t in trackers]

    def _carriers(self) -> list[Check]:
        statuses = self._s.trunks.status()
        if not statuses:
            return [Check("carrier", "carriers", "down", "No carrier trunk is configured: no calls can come in.")]
        checks = []
        for status in statuses:
            tracker = self._s.health.tracker("trunk", status["name"], down_after=1, up_after=1)
            if status["kind"] == "ip":
                checks.append(Check("carrier", status["name"], "ok",
                                    f"Accepts calls from {status['host']} (no registration needed)."))
                continue
            state = _STATE.get(status.get("state", "unknown"), "unknown")
            summary = ("Registered." if status.get("registered") else
                       status.get("last_error") or "Waiting for the carrier to answer the registration.")
            checks.append(Check("carrier", status["name"], state, summary,
                                tracker.since if state != "ok" else None))
        return checks

    def _seats(self) -> list[Check]:
        checks = []
        for op in self._s.acd.snapshot()["operators"]:
            subject = f"{op['name']} ({op['extension']})"
            if op["seat"] is None:
                checks.append(Check("seat", subject, "down", "No usable seat: calls cannot be offered."))
            elif op["state"] == "offline":
                checks.append(Check("seat", subject, "down", f"Offline at {op['seat']}."))
            else:
                checks.append(Check("seat", subject, "ok", f"{op['state'].replace('_', ' ')} at {op['seat']}."))
        return checks or [Check("seat", "operators", "warning", "No operator is configured: calls will wait.")]

    def _disk_usage(self) -> tuple[float, int]:
        usage = shutil.disk_usage(self._data_dir())
        return usage.free / usage.total, usage.free

    def _data_dir(self) -> Path:
        path = self._s.settings.data.dir
        return path if path.exists() else Path("/")

    def _disk(self) -> Check:
        free, free_bytes = self._disk_usage()
        tracker = self._s.health.tracker("disk", "data", down_after=1, up_after=1)
        state = "down" if free < DISK_DOWN_FREE else "warning" if free < DISK_WARN_FREE else "ok"
        return Check("disk", "data", state, f"{free_bytes / 1e9:.1f} GB free ({free:.0%}).",
                     tracker.since if state != "ok" else None)

    async def _measure_disk(self) -> None:
        free, free_bytes = await asyncio.to_thread(self._disk_usage)
        tracker = self._s.health.tracker("disk", "data", down_after=1, up_after=1)
        transition = tracker.observe(free >= DISK_DOWN_FREE, f"{free_bytes / 1e9:.1f} GB free ({free:.0%})")
        if transition is not None:
            await self._s.incidents.apply(transition, "recordings will be refused until space is freed"
                                          if transition.new.value == "down" else "")

    async def report(self, reporter: str, text: str) -> Incident:
        """Capture the state of everything now into the incident journal (a person's problem report)."""
        checks = await self.run(measure=True)
        stats = self._s.engine.stats()
        state: dict[str, Any] = {
            "checks": [{**dataclasses.asdict(c), "since": c.since.isoformat() if c.since else None}
                       for c in checks],
            "engine": dataclasses.asdict(stats),
            "trunks": self._s.trunks.status(),
            **self._s.acd.snapshot(),
        }
        broken = [f"{c.subject}: {c.summary}" for c in checks if c.state in ("down", "warning")]
        cause = (text.strip() or "(no description)")[:2000]
        return await Incident.create(
            kind="report", subject=f"reported by {reporter}"[:128], started_at=datetime.now(UTC),
            cause=cause, severity="minor",
            action="state captured: " + ("; ".join(broken) or "every check was fine") + "\n"
                   + json.dumps(state, default=str, sort_keys=True))
