"""Who may use the box: users and roles, sessions, API tokens, sign-in lockout, first-boot claim."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from appliance.auth.lockout import LoginThrottle
from appliance.auth.roles import ROLES, Principal, allowed, home
from appliance.auth.sessions import COOKIE, SessionStore
from appliance.auth.setup import FirstBoot, SetupClosed
from appliance.auth.tokens import TokenStore
from appliance.auth.users import UserDirectory
from appliance.errors import UserError

__all__ = ["COOKIE", "ROLES", "Auth", "FirstBoot", "LoginRefused", "Principal", "SetupClosed", "allowed",
           "home"]


class LoginRefused(UserError):
    """Wrong name or password, or too many tries; `locked_until` is set when locked out."""

    def __init__(self, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class Auth:
    """Everything about signing in, in one place for the web app."""

    def __init__(self, data_dir: Path, throttle: LoginThrottle | None = None) -> None:
        self.data_dir = data_dir
        self.users = UserDirectory()
        self.sessions = SessionStore()
        self.tokens = TokenStore()
        self.throttle = throttle or LoginThrottle()
        self.first_boot = FirstBoot(data_dir, self.users, self.throttle)

    async def login(self, username: str, password: str, address: str) -> tuple[str, str]:
        """Check the password with lockout; returns (session cookie value, role)."""
        locked = await self.throttle.locked_until(address, username)
        if locked is not None:
            raise LoginRefused("Too many failed attempts: this sign-in is locked for a while.", locked)
        user = await self.users.authenticate(username, password)
        if user is None:
            locked = await self.throttle.failed(address, username)
            if locked is not None:
                raise LoginRefused("Too many failed attempts: this sign-in is locked for a while.", locked)
            raise LoginRefused("Wrong user name or password.")
        await self.throttle.succeeded(address, username)
        return await self.sessions.create(user, address), user.role

    def web_secret(self) -> str:
        """The secret that signs CSRF tokens, kept in the data directory (owner-only)."""
        path = self.data_dir / "web-secret"
        try:
            secret = path.read_text().strip()
        except OSError:
            secret = ""
        if len(secret) < 32:
            secret = secrets.token_hex(32)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secret)
        return secret
