"""A trunk's configuration as plain data: what the engine, the prober and the router need of it."""

from __future__ import annotations

import dataclasses
import re

from appliance.sip.abc import TrunkSpec
from appliance.storage.models import Trunk

_CODEC = re.compile(r"^[A-Za-z0-9.-]{2,16}$")


def parse_codecs(text: str) -> tuple[str, ...]:
    """`"PCMA, PCMU"` into ("PCMA", "PCMU"); ValueError naming a bad entry."""
    codecs = tuple(part.strip() for part in text.split(",") if part.strip())
    for codec in codecs:
        if not _CODEC.match(codec):
            raise ValueError(f"not a codec name: {codec!r} (e.g. PCMA, PCMU, G722, opus)")
    return codecs


FAILOVER_FIELDS = frozenset({"weight", "max_channels", "codecs", "caller_id", "test_number", "probe_interval_s",
                             "probe_timeout_s", "down_after", "up_after"})


def check_failover_fields(entry: dict[str, object]) -> None:
    """Refuse bad values of a trunk's failover fields (ValueError naming the field)."""
    parse_codecs(str(entry.get("codecs", "")))
    for name in ("weight", "max_channels", "down_after", "up_after"):
        value = entry.get(name, 1)
        if not isinstance(value, int) or value < (1 if name in ("down_after", "up_after") else 0):
            raise ValueError(f"{name} must be a whole number" + (", 1 or more" if "after" in name else ", 0 or more"))
    interval, timeout = entry.get("probe_interval_s", 2.0), entry.get("probe_timeout_s", 1.5)
    if not isinstance(interval, int | float) or not (interval == 0 or 0.5 <= interval <= 3600):
        raise ValueError("probe_interval_s must be 0 (no probing) or between 0.5 and 3600 seconds")
    if not isinstance(timeout, int | float) or not 0.1 <= timeout <= 30:
        raise ValueError("probe_timeout_s must be between 0.1 and 30 seconds")


@dataclasses.dataclass(frozen=True)
class TrunkConfig:
    """One enabled trunk as loaded from the database."""

    name: str
    kind: str  # "registration" | "ip"
    host: str
    transport: str = "udp"
    username: str = ""
    password: str = dataclasses.field(default="", repr=False)
    realm: str = "*"
    register_expiry_s: int = 300
    priority: int = 10
    weight: int = 100
    max_channels: int = 0  # 0 = no limit
    codecs: tuple[str, ...] = ()
    caller_id: str = ""
    test_number: str = ""
    probe_interval_s: float = 2.0  # 0 = no OPTIONS probing
    probe_timeout_s: float = 1.5
    down_after: int = 3
    up_after: int = 2

    @classmethod
    def from_row(cls, row: Trunk) -> TrunkConfig:
        """The configuration of a database row (bad codec lists are ignored, with the default used)."""
        try:
            codecs = parse_codecs(row.codecs)
        except ValueError:
            codecs = ()
        return cls(name=row.name, kind=row.kind, host=row.host, transport=row.transport, username=row.username,
                   password=row.password, realm=row.realm, register_expiry_s=row.register_expiry_s,
                   priority=row.priority, weight=max(row.weight, 0), max_channels=max(row.max_channels, 0),
                   codecs=codecs, caller_id=row.caller_id, test_number=row.test_number,
                   probe_interval_s=max(row.probe_interval_s, 0.0), probe_timeout_s=max(row.probe_timeout_s, 0.1),
                   down_after=max(row.down_after, 1), up_after=max(row.up_after, 1))

    @property
    def registers(self) -> bool:
        """Whether the box registers to this carrier."""
        return self.kind == "registration"

    @property
    def probes(self) -> bool:
        """Whether the box probes this carrier with SIP OPTIONS."""
        return self.probe_interval_s > 0

    def spec(self) -> TrunkSpec:
        """What the SIP engine needs of this trunk."""
        return TrunkSpec(name=self.name, kind=self.kind, host=self.host, transport=self.transport,
                         username=self.username, password=self.password, realm=self.realm,
                         register_expiry_s=self.register_expiry_s, caller_id=self.caller_id, codecs=self.codecs)

    def uri(self, number: str) -> str:
        """The Request-URI of a call to `number` through this carrier."""
        user = "".join(c for c in number if c.isalnum() or c in "+*#.-_")
        return f"sip:{user}@{self.host}" + (";transport=tcp" if self.transport == "tcp" else "")
