"""Failed sign-ins counted per source address and user name in the database, with lockout.

litestar's rate limiter is per address and trusts forwarded headers; this keys on the peer
address and the name tried, so one office PC mistyping does not lock out everyone, and the
count survives a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.storage import LoginAttempt


class LoginThrottle:
    """After `max_failures` within `window`, refuse that name from that address for `lock`."""

    def __init__(self, max_failures: int = 5, window: timedelta = timedelta(minutes=15),
                 lock: timedelta = timedelta(minutes=15)) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lock = lock

    @staticmethod
    def _key(address: str, username: str) -> str:
        return f"{address}|{username.strip().lower()}"[:200]

    async def locked_until(self, address: str, username: str) -> datetime | None:
        """When the lock on this name from this address ends, or None if not locked."""
        row = await LoginAttempt.get_or_none(key=self._key(address, username))
        now = datetime.now(UTC)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return row.locked_until
        return None

    async def failed(self, address: str, username: str) -> datetime | None:
        """Count a failure; returns the end of the lock if this failure locked it."""
        now = datetime.now(UTC)
        row, created = await LoginAttempt.get_or_create(key=self._key(address, username),
                                                        defaults={"failures": 1, "first_failed_at": now})
        if not created:
            if now - row.first_failed_at > self.window or (row.locked_until and row.locked_until <= now):
                row.failures, row.first_failed_at, row.locked_until = 1, now, None
            else:
                row.failures += 1
        if row.failures >= self.max_failures:
            row.locked_until = now + self.lock
        await row.save()
        return row.locked_until

    async def succeeded(self, address: str, username: str) -> None:
        """Forget the failures of this name from this address."""
        await LoginAttempt.filter(key=self._key(address, username)).delete()

    async def remaining(self, address: str, username: str) -> int:
        """How many more failures are allowed before the lock."""
        row = await LoginAttempt.get_or_none(key=self._key(address, username))
        if row is None or datetime.now(UTC) - row.first_failed_at > self.window:
            return self.max_failures
        return max(self.max_failures - row.failures, 0)
