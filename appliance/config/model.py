"""The configuration as plain data: what `export` writes and `apply` compares, section by section.

Each section maps an entry's identity (trunk name, operator extension, queue name, DID number
and trunk) to its fields, fully filled in, so two configurations compare with `==`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from appliance.config.fields import Operator, Queue, QueueMember, Seat, Trunk, defaults

SECTIONS = ("settings", "trunks", "operators", "queues", "dids")

TRUNK_DEFAULTS: dict[str, Any] = {**defaults(Trunk), "allowed_sources": []}
QUEUE_DEFAULTS: dict[str, Any] = {**defaults(Queue), "members": []}
OPERATOR_DEFAULTS: dict[str, Any] = defaults(Operator)
SEAT_DEFAULTS: dict[str, Any] = defaults(Seat)
MEMBER_DEFAULTS: dict[str, Any] = defaults(QueueMember)
SETTING_DEFAULTS: dict[str, Any] = {"box_name": "Callbox", "timezone": "UTC"}
SECRET_FIELDS = {"trunks": ("password",)}

DidKey = tuple[str, str | None]  # (number, trunk name or None for any trunk)


@dataclasses.dataclass
class Config:
    """A whole configuration; `present` names the sections a document gave (the others stay as they are)."""

    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    trunks: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    operators: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    dids: dict[DidKey, dict[str, Any]] = dataclasses.field(default_factory=dict)
    present: frozenset[str] = frozenset(SECTIONS)

    def section(self, name: str) -> dict[Any, Any]:
        """One section by name."""
        return dict(getattr(self, name))


def split_sources(text: str) -> list[str]:
    """The database's comma-separated allowed sources as a list."""
    return [part.strip() for part in text.split(",") if part.strip()]


def secret_ref(section: str, key: str, field: str) -> str:
    """The reference name `export` gives a secret field: `trunk/<name>/password`."""
    return f"{section.rstrip('s')}/{key}/{field}"


def did_label(key: DidKey) -> str:
    """`4951234567 on carrier-a` or `* on any trunk`."""
    return f"{key[0]} on {key[1] or 'any trunk'}"
