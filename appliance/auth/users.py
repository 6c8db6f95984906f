"""People who use the panel: create, authenticate, change passwords, roles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from appliance.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from appliance.auth.roles import ROLES
from appliance.errors import NotFoundError, UserError
from appliance.forms import FieldErrors, Form
from appliance.storage import Operator, User, WebSession

_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class UserDirectory:
    """The panel's users."""

    async def list(self) -> list[User]:
        """Every user, by name."""
        return await User.all().order_by("username").prefetch_related("operator")

    async def get(self, user_id: int) -> User:
        """One user, or NotFoundError."""
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise NotFoundError(f"no user #{user_id}")
        return user

    async def validate(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Cleaned fields of a new user, or FieldErrors."""
        form = Form(data)
        username = form.text("username", required=True, max_length=64, label="The user name")
        if username and not _USERNAME.match(username):
            form.error("username", "Use letters, digits, dots, dashes or @ only.")
        elif username and await User.filter(username=username).exists():
            form.error("username", "This user name is taken.")
        role = form.choice("role", ROLES, default="operator")
        password = str(form.raw("password") or "")
        if (problem := password_problem(password, username)) is not None:
            form.error("password", problem)
        if "password_confirm" in data and data["password_confirm"] != password:
            form.error("password_confirm", "The two passwords differ.")
        operator_id = form.integer("operator_id", default=0, low=0, high=2**31)
        if role == "operator":
            if not operator_id:
                form.error("operator_id", "Pick the operator this person is.")
            elif not await Operator.filter(id=operator_id).exists():
                form.error("operator_id", "This operator does not exist.")
        form.check()
        return {"username": username, "role": role, "password": password,
                "operator_id": operator_id if role == "operator" else None}

    async def create(self, data: Mapping[str, Any]) -> User:
        """Validate and create a user."""
        cleaned = await self.validate(data)
        hashed = await hash_password(cleaned.pop("password"))
        return await User.create(**cleaned, password_hash=hashed, password_changed_at=datetime.now(UTC))

    async def authenticate(self, username: str, password: str) -> User | None:
        """The enabled user with this name and password, or None (always costs one hash check)."""
        user = await User.get_or_none(username=username.strip(), enabled=True)
        if not await verify_password(user.password_hash if user else None, password) or user is None:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = await hash_password(password)
            await user.save(update_fields=["password_hash"])
        return user

    async def change_password(self, user_id: int, data: Mapping[str, Any]) -> None:
        """A user changes their own password: the current one is required."""
        user = await self.get(user_id)
        current, new = str(data.get("current") or ""), str(data.get("password") or "")
        errors: dict[str, str] = {}
        if not await verify_password(user.password_hash, current):
            errors["current"] = "This is not your current password."
        if (problem := password_problem(new, user.username)) is not None:
            errors["password"] = problem
        elif new == current:
            errors["password"] = "Choose a password different from the current one."  # noqa: S105
        if data.get("password_confirm") != new:
            errors["password_confirm"] = "The two passwords differ."  # noqa: S105
        if errors:
            raise FieldErrors(errors)
        await self._set_password(user, new)

    async def reset_password(self, user_id: int, password: str) -> None:
        """An admin sets someone's password; their sessions end."""
        user = await self.get(user_id)
        if (problem := password_problem(password, user.username)) is not None:
            raise FieldErrors({"password": problem})
        await self._set_password(user, password)
        await WebSession.filter(user_id=user.id).delete()

    async def _set_password(self, user: User, password: str) -> None:
        user.password_hash = await hash_password(password)
        user.password_changed_at = datetime.now(UTC)
        await user.save(update_fields=["password_hash", "password_changed_at"])

    async def delete(self, user_id: int, acting_user_id: int | None) -> None:
        """Remove a user; the last admin and oneself cannot be removed."""
        user = await self.get(user_id)
        if user.id == acting_user_id:
            raise UserError("You cannot remove yourself.")
        if user.role == "admin" and await User.filter(role="admin", enabled=True).count() <= 1:
            raise UserError("The last admin cannot be removed.")
        await user.delete()
