"""Start-up settings: frozen dataclasses per concern, read from a TOML file and `CALLBOX_*` env.

Every field can be set as `[section] field = value` in the TOML file named by `CALLBOX_CONFIG`
(or `--config`), and overridden by the environment variable `CALLBOX_<SECTION>_<FIELD>`, e.g.
`CALLBOX_SIP_PORT=5080`, `CALLBOX_DATA_DIR=/srv/callbox`. Configuration an admin edits (trunks,
queues, operators) lives in the database, not here.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from appliance.errors import ConfigError

T = TypeVar("T")


def _default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/callbox")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "callbox"


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """Where the appliance keeps its state."""

    dir: Path = dataclasses.field(default_factory=_default_data_dir)
    database: Path | None = None  # default: <dir>/callbox.sqlite3

    @property
    def database_path(self) -> Path:
        """The SQLite database file."""
        return self.database or self.dir / "callbox.sqlite3"

    @property
    def recordings_dir(self) -> Path:
        """Where call recordings are written."""
        return self.dir / "recordings"


@dataclasses.dataclass(frozen=True)
class SipSettings:
    """The SIP engine: where it listens and how much it may carry."""

    bind: str = "0.0.0.0"  # noqa: S104 - the box serves its LAN and its carriers
    port: int = 5060
    public_address: str = ""  # address put in Contact/SDP when behind NAT; empty = bound address
    rtp_port: int = 10000
    rtp_port_range: int = 2000
    max_calls: int = 500  # call legs; the build's PJSUA_MAX_CALLS is 512
    max_bridge_ports: int = 1090  # conference-bridge ports; the build's PJSUA_MAX_CONF_PORTS is 1100
    bridge_clock_rate: int = 8000  # carriers speak G.711: a narrowband bridge resamples nothing
    log_level: int = 3  # PJSIP's own verbosity (0-6) before Python logging filters it
    hold_music: Path | None = None  # default: the tune shipped with the appliance


@dataclasses.dataclass(frozen=True)
class HttpSettings:
    """The admin panel and API server."""

    host: str = "0.0.0.0"  # noqa: S104 - the panel is reached from the office LAN
    port: int = 8080


@dataclasses.dataclass(frozen=True)
class LogSettings:
    """Python logging."""

    level: str = "INFO"


@dataclasses.dataclass(frozen=True)
class UplinkSettings:
    """How uplinks are probed and switched (the uplinks themselves live in the database)."""

    interval_ms: int = 500  # one probe round per uplink this often
    timeout_ms: int = 600  # a probe not answered by then failed
    down_after: int = 3  # failed rounds in a row before an uplink is down
    up_after: int = 6  # good rounds in a row before a down uplink is up again
    failback_hold_s: int = 60  # the primary must be up this long, without one failure, before failback
    failback_when_idle: bool = False  # stay on the backup until no call is up

    def validate(self) -> None:
        """Refuse probing that cannot detect anything or would flap."""
        if self.interval_ms < 100 or self.timeout_ms < 50:
            raise ConfigError("uplinks.interval_ms must be at least 100 and uplinks.timeout_ms at least 50")
        if self.down_after < 1 or self.up_after < 1 or self.failback_hold_s < 0:
            raise ConfigError("uplinks.down_after and uplinks.up_after must be at least 1, failback_hold_s >= 0")


@dataclasses.dataclass(frozen=True)
class CloudSettings:
    """The vendor's cloud that receives batches of records; an empty `url` turns sync off."""

    url: str = ""  # the batch endpoint, e.g. https://cloud.example/v1/batches
    token: str = dataclasses.field(default="", repr=False)  # bearer token; prefer token_file
    token_file: Path | None = None  # a file only the daemon can read, holding the token
    device_id: str = ""  # default: generated once and kept in <data.dir>/device-id
    ca_file: Path | None = None  # CA bundle of a private cloud; default: the system's
    batch_max: int = 500  # records per POST
    outbox_max: int = 100_000  # records waiting for the cloud before collection pauses
    snapshot_s: int = 300  # a snapshot of the live state this often; 0 = none
    poll_ms: int = 2000  # how often new records are collected into the outbox
    timeout_s: int = 20  # per POST
    backoff_min_ms: int = 1000  # first retry delay (full jitter, doubling)
    backoff_max_s: int = 300  # retry delay cap

    def bearer(self) -> str:
        """The bearer token, read from `token_file` when set."""
        if self.token_file is not None:
            try:
                return self.token_file.read_text().strip()
            except OSError as err:
                raise ConfigError(f"cannot read cloud.token_file {self.token_file}: {err}") from err
        return self.token

    def validate(self) -> None:
        """Refuse a cloud set-up that cannot work (never naming the token)."""
        if not self.url:
            return
        loopback = self.url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if not (self.url.startswith("https://") or loopback):
            raise ConfigError("cloud.url must be https:// (plain http only to this machine)")
        if not (self.token or self.token_file):
            raise ConfigError("cloud.url is set but neither cloud.token nor cloud.token_file is")
        if self.batch_max < 1 or self.outbox_max < self.batch_max:
            raise ConfigError("cloud.batch_max must be at least 1 and cloud.outbox_max at least batch_max")
        if self.backoff_min_ms < 1 or self.backoff_max_s < 1 or self.poll_ms < 10:
            raise ConfigError("cloud.backoff_min_ms, cloud.backoff_max_s and cloud.poll_ms are too small")


@dataclasses.dataclass(frozen=True)
class RecordingSettings:
    """Call recording: encoding after the call, retention and the disk guard (appliance/recording/)."""

    enabled: bool = True
    bitrate_kbps: int = 24  # Opus, both channels together: about 0.15-0.18 MB per minute
    encoders: int = 1  # encodings at once (each is one low-priority opusenc process)
    complexity: int = 5  # Opus encoder complexity 0-10: 5 costs ~30 % less CPU than 10 at the same size
    nice: int = 10  # CPU niceness of the encoder; its I/O runs in the idle class (ionice -c 3)
    keep_days: int = 90  # recordings older than this are removed; 0 = kept forever
    max_total_mb: int = 0  # the recordings take at most this much; oldest go first; 0 = no cap
    warn_free_mb: int = 2048  # free space on the data disk below this: a "disk" incident (warning)
    stop_free_mb: int = 512  # below this, after retention: new calls are not recorded (incident)
    check_s: int = 30  # the disk guard's period

    def validate(self) -> None:
        """Refuse values the encoder or the disk guard cannot work with."""
        if not 6 <= self.bitrate_kbps <= 256 or not 0 <= self.complexity <= 10 or self.encoders < 1:
            raise ConfigError("recording.bitrate_kbps is 6-256, recording.complexity 0-10, recording.encoders >= 1")
        if min(self.keep_days, self.max_total_mb, self.stop_free_mb, self.check_s - 1) < 0 \
                or self.stop_free_mb > self.warn_free_mb:
            raise ConfigError("recording limits must not be negative, and stop_free_mb must not exceed warn_free_mb")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the daemon needs to start."""

    data: DataSettings = dataclasses.field(default_factory=DataSettings)
    sip: SipSettings = dataclasses.field(default_factory=SipSettings)
    http: HttpSettings = dataclasses.field(default_factory=HttpSettings)
    log: LogSettings = dataclasses.field(default_factory=LogSettings)
    cloud: CloudSettings = dataclasses.field(default_factory=CloudSettings)
    uplinks: UplinkSettings = dataclasses.field(default_factory=UplinkSettings)
    recording: RecordingSettings = dataclasses.field(default_factory=RecordingSettings)

    @classmethod
    def load(cls, path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Read the TOML file (if any), apply `CALLBOX_*` overrides, validate."""
        env = os.environ if env is None else env
        path = path or (Path(env["CALLBOX_CONFIG"]) if env.get("CALLBOX_CONFIG") else None)
        raw: dict[str, Any] = {}
        if path is not None:
            try:
                raw = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as err:
                raise ConfigError(f"cannot read settings file {path}: {err}") from err
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown settings section(s): {', '.join(sorted(unknown))}")
        sections: dict[str, Any] = {name: _section(kind, name, raw.get(name, {}), env) for name, kind in _SECTIONS.items()}
        settings = cls(**sections)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse values that cannot work, with a message that names the setting."""
        for name, port in (("sip.port", self.sip.port), ("http.port", self.http.port),
                           ("sip.rtp_port", self.sip.rtp_port)):
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} must be a port number, not {port}")
        if self.sip.max_calls < 2 or self.sip.max_bridge_ports < 4:
            raise ConfigError("sip.max_calls and sip.max_bridge_ports are too small to bridge a call")
        if self.sip.bridge_clock_rate not in (8000, 16000, 32000, 48000):
            raise ConfigError("sip.bridge_clock_rate must be 8000, 16000, 32000 or 48000")
        self.cloud.validate()
        self.recording.validate()
        self.uplinks.validate()


_PATH_FIELDS = {"dir", "database", "hold_music", "token_file", "ca_file"}
_SECTIONS: dict[str, type] = {"data": DataSettings, "sip": SipSettings, "http": HttpSettings, "log": LogSettings,
                             "cloud": CloudSettings, "uplinks": UplinkSettings, "recording": RecordingSettings}


def _section(kind: type[T], name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> T:
    known = {f.name: f for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{name}]: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(raw)
    for field_name in known:
        key = f"CALLBOX_{name}_{field_name}".upper()
        if key in env:
            values[field_name] = env[key]
    defaults = kind()
    return kind(**{k: _coerce(f"{name}.{k}", v, getattr(defaults, k), k) for k, v in values.items()})


def _coerce(label: str, value: Any, default: Any, field_name: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{label} must be a whole number, not {value!r}") from err
    if isinstance(default, Path) or field_name in _PATH_FIELDS:
        return Path(value) if value not in ("", None) else None
    return str(value)
