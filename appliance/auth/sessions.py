"""Browser sessions: a random cookie value, stored only as its SHA-256, with idle and absolute expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from appliance.auth.roles import Principal
from appliance.storage import User, WebSession

COOKIE = "callbox_session"
IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=7)


def digest(token: str) -> str:
    """The stored form of a secret token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Signed-in browsers."""

    async def create(self, user: User, address: str) -> str:
        """Start a session; returns the cookie value (never stored)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await WebSession.create(token_hash=digest(token), user=user, expires_at=now + IDLE, last_seen_at=now,
                                address=address[:64])
        await WebSession.filter(expires_at__lt=now).delete()
        return token

    async def resolve(self, token: str) -> Principal | None:
        """Who holds this cookie, or None if it is unknown, expired or the user is disabled."""
        session = await WebSession.get_or_none(token_hash=digest(token)).prefetch_related("user")
        now = datetime.now(UTC)
        if session is None or session.expires_at <= now or not session.user.enabled:
            return None
        if now - session.last_seen_at > timedelta(minutes=1):
            session.last_seen_at = now
            session.expires_at = min(now + IDLE, session.created_at + ABSOLUTE)
            await session.save(update_fields=["last_seen_at", "expires_at"])
        user = session.user
        return Principal(user.username, user.role, "session", user_id=user.id,
                         operator_id=user.operator_id)  # type: ignore[attr-defined]

    async def revoke(self, token: str) -> None:
        """End one session (log out)."""
        await WebSession.filter(token_hash=digest(token)).delete()

    async def revoke_others(self, user_id: int, keep: str | None) -> None:
        """End every session of a user except the one holding `keep` (after a password change)."""
        query = WebSession.filter(user_id=user_id)
        if keep:
            query = query.exclude(token_hash=digest(keep))
        await query.delete()
