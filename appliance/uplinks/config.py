"""What an uplink is: its interface, gateway, priority and probe targets, read from the database."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from appliance.errors import ConfigError
from appliance.storage.models import Uplink

PROBE_KINDS = ("icmp", "tcp", "sip")  # sip: an OPTIONS to a carrier through the uplink
FIRST_TABLE = 100  # routing tables FIRST_TABLE + position hold each uplink's own default route
FIRST_RULE = 1000  # rule priorities FIRST_RULE + 2 * position (source) and + 1 (output interface)


@dataclasses.dataclass(frozen=True)
class ProbeTarget:
    """One thing to reach through an uplink: `icmp:host`, `tcp:host:port` or `sip:host:port`."""

    kind: str
    host: str
    port: int = 0

    @classmethod
    def parse(cls, text: str) -> ProbeTarget:
        """Parse `icmp:198.51.100.10`, `tcp:198.51.100.10:5060`, `sip:198.51.100.10:5060` or a bare address."""
        kind, _, rest = text.strip().partition(":") if ":" in text else ("icmp", "", text.strip())
        if kind not in PROBE_KINDS:
            raise ConfigError(f"probe target {text!r}: kind must be one of {', '.join(PROBE_KINDS)}")
        host, _, port = rest.partition(":")
        try:
            ipaddress.IPv4Address(host)
        except ValueError as err:
            raise ConfigError(f"probe target {text!r}: {host!r} is not an IPv4 address") from err
        if kind == "tcp" and not port.isdigit():
            raise ConfigError(f"probe target {text!r}: tcp needs a port")
        return cls(kind, host, int(port or (5060 if kind == "sip" else 0)))

    def __str__(self) -> str:
        return f"{self.kind}:{self.host}" + (f":{self.port}" if self.port else "")


@dataclasses.dataclass(frozen=True)
class UplinkSpec:
    """One internet uplink as the uplink service manages it."""

    name: str
    interface: str
    gateway: str  # empty: take the gateway the DHCP client installed on the interface
    priority: int  # lower is preferred; the lowest is the primary
    targets: tuple[ProbeTarget, ...]
    table: int
    rule_priority: int
    ip_trunks: frozenset[str] = frozenset()  # IP-authenticated trunks that know this uplink's address
    public_address: str = ""  # the address carriers see, when the admin knows it


def parse_targets(text: str) -> tuple[ProbeTarget, ...]:
    """Comma- or space-separated probe targets."""
    targets = tuple(ProbeTarget.parse(part) for part in text.replace(",", " ").split())
    if not targets:
        raise ConfigError("an uplink needs at least one probe target")
    return targets


async def load_uplinks() -> list[UplinkSpec]:
    """The enabled uplinks, primary first, validated as a whole."""
    rows = await Uplink.filter(enabled=True).order_by("priority", "id")
    specs = []
    for position, row in enumerate(rows):
        try:
            targets = parse_targets(row.probe_targets)
            if row.gateway:
                ipaddress.IPv4Address(row.gateway)
        except (ConfigError, ValueError) as err:
            raise ConfigError(f"uplink {row.name}: {err}") from err
        trunks = frozenset(t.strip() for t in row.ip_trunks.split(",") if t.strip())
        specs.append(UplinkSpec(row.name, row.interface, row.gateway, row.priority, targets,
                                FIRST_TABLE + position, FIRST_RULE + 2 * position, trunks, row.public_address))
    if len({s.interface for s in specs}) != len(specs):
        raise ConfigError("two uplinks use the same interface")
    return specs


_FIELDS = ("name", "interface", "gateway", "priority", "probe_targets", "ip_trunks", "public_address", "enabled")


def _row(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One uplink from an API document, validated."""
    unknown = set(raw) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"unknown uplink field(s): {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {"name": str(raw.get("name", "")).strip(), "interface": str(raw.get("interface", "")).strip(),
           "gateway": str(raw.get("gateway", "")).strip(), "probe_targets": str(raw.get("probe_targets", "")),
           "ip_trunks": str(raw.get("ip_trunks", "")), "public_address": str(raw.get("public_address", "")),
           "enabled": bool(raw.get("enabled", True))}
    if not row["name"] or not row["interface"]:
        raise ConfigError("an uplink needs a name and an interface")
    try:
        row["priority"] = int(raw.get("priority", 10))
        if row["gateway"]:
            ipaddress.IPv4Address(row["gateway"])
    except ValueError as err:
        raise ConfigError(f"uplink {row['name']}: {err}") from err
    try:
        parse_targets(row["probe_targets"])
    except ConfigError as err:
        raise ConfigError(f"uplink {row['name']}: {err}") from err
    return row


async def save_uplinks(document: Any) -> None:
    """Replace every uplink with the list in `document` ({"uplinks": [...]}), all or nothing."""
    items = document.get("uplinks") if isinstance(document, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise ConfigError('expected {"uplinks": [{"name": ..., "interface": ..., ...}, ...]}')
    rows = [_row(item) for item in items]
    for key in ("name", "interface"):
        if len({r[key] for r in rows}) != len(rows):
            raise ConfigError(f"two uplinks have the same {key}")
    async with in_transaction():
        await Uplink.all().delete()
        for row in rows:
            await Uplink.create(**row)
