"""First boot: a one-time code on the console and in a root-only file claims the box.

Until someone enters the code (and so proves access to the console or the disk), nobody can
set the admin password: a stranger on the LAN cannot claim a new box. After the claim the
admin walks through the rest of the wizard; the wizard can be re-run later, but the claim
cannot be made again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from appliance.admin import system
from appliance.auth.lockout import LoginThrottle
from appliance.auth.users import UserDirectory
from appliance.errors import UserError
from appliance.forms import FieldErrors
from appliance.storage import User

log = logging.getLogger(__name__)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a console by a person
_STATE = "setup.state"  # "unclaimed" -> "claimed" -> "done"


class SetupClosed(UserError):
    """The box has been claimed already."""


def _normalize(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class FirstBoot:
    """The set-up code and how far the first-boot wizard has got."""

    def __init__(self, data_dir: Path, users: UserDirectory, throttle: LoginThrottle) -> None:
        self.code_path = data_dir / "setup-code"
        self._users = users
        self._throttle = throttle
        self._lock = asyncio.Lock()
        self._code: str | None = None
        self._done = False

    async def state(self) -> str:
        """"unclaimed", "claimed" (admin exists, wizard not finished) or "done"."""
        if self._done:
            return "done"
        state = str(await system.read(_STATE, "unclaimed"))
        if state == "unclaimed" and await User.filter(role="admin").exists():
            state = "claimed"  # an admin made another way (tests, a restore): the code is moot
        self._done = state == "done"
        return state

    async def done(self) -> bool:
        """Whether the wizard has been finished once (then the rest of the panel opens)."""
        return self._done or await self.state() == "done"

    async def prepare(self) -> str | None:
        """Make sure an unclaimed box has a code, in the log and in a file only its owner reads."""
        async with self._lock:
            if await self.state() != "unclaimed":
                self.code_path.unlink(missing_ok=True)
                return None
            if self._code is None:
                try:
                    self._code = _normalize(self.code_path.read_text())
                except OSError:
                    self._code = ""
                if len(self._code) != 12:
                    self._code = "".join(secrets.choice(_ALPHABET) for _ in range(12))
                    self._write_code(self._code)
                log.warning("first-boot set-up code: %s (also in %s); open the panel to set the box up",
                            self.display(self._code), self.code_path)
            return self._code

    def _write_code(self, code: str) -> None:
        self.code_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.code_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(self.display(code) + "\n")

    @staticmethod
    def display(code: str) -> str:
        """The code in groups of four, as shown to people."""
        return "-".join(code[i:i + 4] for i in range(0, len(code), 4))

    async def claim(self, data: Mapping[str, Any], address: str) -> User:
        """Check the code and create the admin; raises SetupClosed once claimed, FieldErrors on bad input."""
        async with self._lock:
            if await self.state() != "unclaimed":
                raise SetupClosed("This box has been set up already: sign in instead.")
            if await self._throttle.locked_until(address, "#setup") is not None:
                raise FieldErrors({"code": "Too many wrong codes: wait 15 minutes and try again."})
            errors: dict[str, str] = {}
            given = _normalize(str(data.get("code") or ""))
            if not self._code or not hmac.compare_digest(given.encode(), self._code.encode()):
                await self._throttle.failed(address, "#setup")
                errors["code"] = "This is not the set-up code shown on the box's console."
            try:
                cleaned = await self._users.validate({**data, "role": "admin"})
            except FieldErrors as err:
                errors.update(err.errors)
            if errors:
                raise FieldErrors(errors)
            await self._throttle.succeeded(address, "#setup")
            async with in_transaction():
                user = await self._users.create({**cleaned, "password_confirm": cleaned["password"]})
                await system.write(_STATE, "claimed")
            self.code_path.unlink(missing_ok=True)
            self._code = None
            log.info("box claimed by %s from %s", user.username, address)
            return user

    async def finish(self) -> None:
        """The admin finished the wizard: the whole panel opens."""
        await system.write(_STATE, "done")
        self._done = True
