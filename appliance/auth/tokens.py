"""API tokens for machines: created by an admin, shown once, stored as SHA-256."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.auth.roles import ROLES, Principal
from appliance.auth.sessions import digest
from appliance.errors import NotFoundError
from appliance.forms import Form
from appliance.storage import ApiToken

PREFIX = "cbx_"


class TokenStore:
    """The API tokens of the box."""

    async def list(self) -> list[ApiToken]:
        """Tokens not revoked, newest first."""
        return await ApiToken.filter(revoked_at__isnull=True).order_by("-id")

    async def create(self, data: Mapping[str, Any], created_by: str) -> tuple[ApiToken, str]:
        """Validate and create a token; returns the row and the secret, which is never shown again."""
        form = Form(data)
        name = form.text("name", required=True, max_length=64, label="The name")
        role = form.choice("role", ROLES, default="supervisor")
        form.check()
        secret = PREFIX + secrets.token_urlsafe(32)
        row = await ApiToken.create(name=name, role=role, token_hash=digest(secret), prefix=secret[:10],
                                    created_by=created_by)
        return row, secret

    async def resolve(self, secret: str) -> Principal | None:
        """The principal of a bearer token, or None if unknown or revoked."""
        if not secret.startswith(PREFIX):
            return None
        row = await ApiToken.get_or_none(token_hash=digest(secret), revoked_at__isnull=True)
        if row is None:
            return None
        now = datetime.now(UTC)
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            row.last_used_at = now
            await row.save(update_fields=["last_used_at"])
        return Principal(f"token:{row.name}", row.role, "token", token_id=row.id)

    async def revoke(self, token_id: int) -> None:
        """Stop a token from working."""
        updated = await ApiToken.filter(id=token_id, revoked_at__isnull=True).update(revoked_at=datetime.now(UTC))
        if not updated:
            raise NotFoundError(f"no active token #{token_id}")
