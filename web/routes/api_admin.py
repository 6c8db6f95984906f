"""`/api/v1/settings`, `/api/v1/users`, `/api/v1/tokens`: the box's settings and who may use it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from litestar import Request, Router, delete, get, post, put
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED

from web.deps import AdminDep, AuthDep
from web.security import principal_of, requires


@dataclasses.dataclass
class SettingsBody:
    """The box's own settings."""

    box_name: str
    timezone: str


@dataclasses.dataclass
class UserIn:
    """A user to create; operators name the operator they are."""

    username: str
    password: str
    role: str = "operator"
    operator_id: int | None = None


@dataclasses.dataclass
class UserOut:
    """A user (never their password)."""

    id: int
    username: str
    role: str
    operator_id: int | None
    enabled: bool


@dataclasses.dataclass
class TokenIn:
    """A token to create, with the role it acts with."""

    name: str
    role: str = "supervisor"


@dataclasses.dataclass
class TokenOut:
    """A token; `token` (the secret) is only in the answer that created it."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    token: str | None = None


def _token(row: Any, secret: str | None = None) -> TokenOut:
    return TokenOut(row.id, row.name, row.role, row.prefix, row.created_at, row.last_used_at, secret)


@get("/settings")
async def get_settings(admin: AdminDep) -> SettingsBody:
    """The box's name and time zone."""
    return SettingsBody(**await admin.system.current())


@put("/settings")
async def put_settings(admin: AdminDep, data: SettingsBody) -> SettingsBody:
    """Replace the box's name and time zone."""
    return SettingsBody(**await admin.system.update(dataclasses.asdict(data)))


@get("/users")
async def list_users(auth: AuthDep) -> list[UserOut]:
    """Every user with their role."""
    return [UserOut(u.id, u.username, u.role, u.operator_id, u.enabled)  # type: ignore[attr-defined]
            for u in await auth.users.list()]


@post("/users", status_code=HTTP_201_CREATED)
async def create_user(auth: AuthDep, data: UserIn) -> UserOut:
    """Create a user."""
    u = await auth.users.create({k: v for k, v in dataclasses.asdict(data).items() if v is not None})
    return UserOut(u.id, u.username, u.role, u.operator_id, u.enabled)  # type: ignore[attr-defined]


@delete("/users/{user_id:int}")
async def delete_user(request: Request[Any, Any, Any], auth: AuthDep, user_id: FromPath[int]) -> None:
    """Remove a user (never the last admin)."""
    principal = principal_of(request)
    await auth.users.delete(user_id, principal.user_id if principal else None)


@get("/tokens")
async def list_tokens(auth: AuthDep) -> list[TokenOut]:
    """Active API tokens (without their secrets)."""
    return [_token(t) for t in await auth.tokens.list()]


@post("/tokens", status_code=HTTP_201_CREATED)
async def create_token(request: Request[Any, Any, Any], auth: AuthDep, data: TokenIn) -> TokenOut:
    """Create a token; its secret is in this answer and never again."""
    principal = principal_of(request)
    row, secret = await auth.tokens.create(dataclasses.asdict(data), principal.name if principal else "")
    return _token(row, secret)


@delete("/tokens/{token_id:int}")
async def revoke_token(auth: AuthDep, token_id: FromPath[int]) -> None:
    """Revoke a token."""
    await auth.tokens.revoke(token_id)


ROUTES = [Router("/api/v1", tags=["administration"], guards=[requires("config")], route_handlers=[
    get_settings, put_settings, list_users, create_user, delete_user, list_tokens, create_token, revoke_token])]
