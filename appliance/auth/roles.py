"""Roles and what each may reach: admin everything, supervisor watching, operator their own."""

from __future__ import annotations

import dataclasses

ROLES = ("admin", "supervisor", "operator")

# Areas of the panel and API. "config" is everything that changes how the box works.
_AREAS: dict[str, frozenset[str]] = {
    "supervisor": frozenset({"dashboard", "reports", "recordings", "incidents", "status", "own", "report"}),
    "operator": frozenset({"own", "report"}),
}


def allowed(role: str, area: str) -> bool:
    """Whether a role may use an area ("config", "dashboard", "reports", ...)."""
    return role == "admin" or area in _AREAS.get(role, frozenset())


def home(role: str) -> str:
    """The page a user lands on after signing in."""
    return "/me" if role == "operator" else "/"


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is making a request: a signed-in person or a machine with an API token."""

    name: str
    role: str
    via: str  # "session" | "token"
    user_id: int | None = None
    operator_id: int | None = None
    token_id: int | None = None

    def may(self, area: str) -> bool:
        """Whether this principal may use an area."""
        return allowed(self.role, area)
