"""Outbound routes: a dial pattern (prefix or regular expression, strip and prepend) to trunks in order."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from appliance.routing.policy import DEFAULT_CODES, FailoverPolicy, parse_codes
from appliance.storage.models import OutboundRoute

NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
ROUTE_FIELDS = {"name", "pattern", "strip", "prepend", "trunks", "failover_codes", "progress_timeout_s",
                "ring_timeout_s", "position", "enabled"}


@dataclasses.dataclass(frozen=True)
class Route:
    """One outbound route."""

    name: str
    pattern: str = ""  # "^..." a regular expression, otherwise a prefix; "" matches every number
    strip: int = 0
    prepend: str = ""
    trunks: tuple[str, ...] = ()  # empty: every trunk by priority and weight
    policy: FailoverPolicy = dataclasses.field(default_factory=FailoverPolicy)
    progress_timeout_s: float = 2.0  # no provisional response by then: the next trunk
    ring_timeout_s: float = 60.0

    def matches(self, number: str) -> bool:
        """Whether a dialled number takes this route."""
        if self.pattern.startswith("^"):
            return re.match(self.pattern, number) is not None
        return number.startswith(self.pattern)

    def rewrite(self, number: str) -> str:
        """The number as sent to the carrier."""
        return self.prepend + number[self.strip:]


DEFAULT_ROUTE = Route("default")


@dataclasses.dataclass(frozen=True)
class RouteTable:
    """The routes in order; with none configured, every number goes through every trunk."""

    routes: tuple[Route, ...] = ()

    def match(self, number: str) -> Route | None:
        """The first route that takes `number`, or None."""
        if not self.routes:
            return DEFAULT_ROUTE
        return next((route for route in self.routes if route.matches(number)), None)


def validate_route(entry: Mapping[str, Any]) -> None:
    """Refuse a route that cannot work, naming the field (ValueError)."""
    extra = set(entry) - ROUTE_FIELDS
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(sorted(extra))}")
    if not str(entry.get("name", "")).strip():
        raise ValueError("a route needs a name")
    pattern = str(entry.get("pattern", ""))
    if pattern.startswith("^"):
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError(f"pattern is not a regular expression: {err}") from err
    elif pattern and not re.fullmatch(r"\+?[0-9*#]*", pattern):
        raise ValueError("pattern must be a digit prefix or a regular expression starting with ^")
    if not isinstance(entry.get("strip", 0), int) or entry.get("strip", 0) < 0:
        raise ValueError("strip must be a whole number of characters, 0 or more")
    if entry.get("prepend") and not re.fullmatch(r"\+?[0-9*#]*", str(entry["prepend"])):
        raise ValueError("prepend must be digits (with an optional leading +)")
    parse_codes(str(entry.get("failover_codes", DEFAULT_CODES)))
    if not 0.2 <= float(entry.get("progress_timeout_s", 2.0)) <= 30:
        raise ValueError("progress_timeout_s must be between 0.2 and 30 seconds")
    if not 5 <= int(entry.get("ring_timeout_s", 60)) <= 600:
        raise ValueError("ring_timeout_s must be between 5 and 600 seconds")


def trunk_names(value: Any) -> list[str]:
    """A route's trunks from a list or a comma-separated string."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def from_row(row: OutboundRoute) -> Route:
    """A route from its database row."""
    return Route(name=row.name, pattern=row.pattern, strip=row.strip, prepend=row.prepend,
                 trunks=tuple(trunk_names(row.trunks)), policy=FailoverPolicy.parse(row.failover_codes),
                 progress_timeout_s=row.progress_timeout_s, ring_timeout_s=float(row.ring_timeout_s))


async def load_routes() -> RouteTable:
    """The enabled routes from the database, in order."""
    rows = await OutboundRoute.filter(enabled=True).order_by("position", "id")
    return RouteTable(tuple(from_row(row) for row in rows))
