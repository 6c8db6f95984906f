"""The incident journal: every outage with its start, end, cause and what the box did."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from appliance.incidents.health import Health, Transition
from appliance.storage import Incident

log = logging.getLogger(__name__)


class IncidentJournal:
    """Opens an incident when a thing goes down and closes it when it comes back."""

    async def apply(self, transition: Transition, action: str = "") -> Incident | None:
        """Record a health transition; returns the incident opened or closed, if any."""
        if transition.new is Health.DOWN:
            return await self.open(transition.kind, transition.subject, transition.cause, action)
        if transition.new is Health.UP and transition.old in (Health.DOWN, Health.UNKNOWN):
            return await self.close(transition.kind, transition.subject, action or transition.cause)
        return None

    async def open(self, kind: str, subject: str, cause: str, action: str = "",
                   severity: str = "major") -> Incident:
        """Open an incident, or return the one already open for this subject."""
        current = await self.current(kind, subject)
        if current is not None:
            return current
        log.warning("incident opened: %s %s: %s", kind, subject, cause)
        return await Incident.create(kind=kind, subject=subject, started_at=datetime.now(UTC), cause=cause,
                                     action=action, severity=severity)

    async def close(self, kind: str, subject: str, action: str = "") -> Incident | None:
        """Close the open incident of this subject, noting what ended it."""
        current = await self.current(kind, subject)
        if current is None:
            return None
        current.state = "closed"
        current.ended_at = datetime.now(UTC)
        current.action = "; ".join(part for part in (current.action, action) if part)
        await current.save()
        log.warning("incident closed: %s %s after %s", kind, subject, current.ended_at - current.started_at)
        return current

    async def note(self, kind: str, subject: str, action: str) -> None:
        """Add what the box did to the open incident of this subject."""
        current = await self.current(kind, subject)
        if current is not None:
            current.action = "; ".join(part for part in (current.action, action) if part)
            await current.save()

    async def current(self, kind: str, subject: str) -> Incident | None:
        """The open incident of this subject, if any."""
        return await Incident.filter(kind=kind, subject=subject, ended_at__isnull=True).order_by("-id").first()

    async def recent(self, limit: int = 50) -> list[Incident]:
        """The latest incidents, newest first."""
        return await Incident.all().order_by("-started_at").limit(limit)
