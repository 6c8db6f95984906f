"""Health of one monitored thing: `up -> degraded -> down` with hysteresis.

N failed observations in a row take a thing down, M good ones in a row bring it back up; one
failure while up only degrades it. Uplinks, trunks, seats, the disk and the cloud link all use
the same tracker, so every outage is judged and journalled the same way.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from datetime import UTC, datetime


class Health(enum.StrEnum):
    """The states a monitored thing can be in."""

    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclasses.dataclass(frozen=True)
class Transition:
    """A change of state, with the cause of the last observation."""

    kind: str
    subject: str
    old: Health
    new: Health
    cause: str
    at: datetime


@dataclasses.dataclass
class HealthTracker:
    """The state machine for one subject (e.g. kind "trunk", subject "carrier-b")."""

    kind: str
    subject: str
    down_after: int = 3
    up_after: int = 2
    state: Health = Health.UNKNOWN
    since: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    last_cause: str = ""
    failures: int = 0
    successes: int = 0

    def observe(self, ok: bool, cause: str = "") -> Transition | None:
        """Feed one observation; returns the transition it caused, if any."""
        if ok:
            self.failures, self.successes = 0, self.successes + 1
            recovering = self.state in (Health.DOWN, Health.UNKNOWN)
            if self.state is not Health.UP and (not recovering or self.successes >= self.up_after
                                                or self.state is Health.UNKNOWN):
                return self._move(Health.UP, cause or "healthy again")
            return None
        self.successes, self.failures = 0, self.failures + 1
        self.last_cause = cause
        if self.failures >= self.down_after and self.state is not Health.DOWN:
            return self._move(Health.DOWN, cause)
        if self.state in (Health.UP, Health.UNKNOWN) and self.failures < self.down_after:
            return self._move(Health.DEGRADED, cause)
        return None

    def _move(self, new: Health, cause: str) -> Transition:
        now = datetime.now(UTC)
        transition = Transition(self.kind, self.subject, self.state, new, cause, now)
        self.state, self.since = new, now
        return transition

    def as_dict(self) -> dict[str, str]:
        """The tracker for an API response."""
        return {"kind": self.kind, "subject": self.subject, "state": self.state.value,
                "since": self.since.isoformat(), "last_cause": self.last_cause}


class HealthBoard:
    """Every tracker of the appliance, by kind and subject."""

    def __init__(self) -> None:
        self._trackers: dict[tuple[str, str], HealthTracker] = {}

    def tracker(self, kind: str, subject: str, down_after: int = 3, up_after: int = 2) -> HealthTracker:
        """The tracker for a subject, created on first use."""
        key = (kind, subject)
        if key not in self._trackers:
            self._trackers[key] = HealthTracker(kind, subject, down_after, up_after)
        return self._trackers[key]

    def forget(self, kind: str, subject: str) -> None:
        """Drop a subject that no longer exists (a deleted trunk)."""
        self._trackers.pop((kind, subject), None)

    def __iter__(self) -> Iterator[HealthTracker]:
        return iter(list(self._trackers.values()))
