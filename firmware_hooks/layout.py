"""Where things are on a box, read from `/etc/callbox/hooks.env` (written by the Ansible role)."""

from __future__ import annotations

import dataclasses
import os
import pwd
from pathlib import Path

ENV_FILE = "etc/callbox/hooks.env"
DEFAULTS = {
    "CALLBOX_DATA_DIR": "/var/lib/callbox",
    "CALLBOX_PREFIX": "/opt/callbox",
    "CALLBOX_ETC": "/etc/callbox",
    "CALLBOX_USER": "callbox",
    "CALLBOX_SERVICE": "callbox.service",
    "CALLBOX_HEALTH_URL": "http://127.0.0.1:8080/healthz",
    "CALLBOX_HOSTNAME_PREFIX": "callbox",
}


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines (no shell expansion), comments and blanks skipped."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


@dataclasses.dataclass(frozen=True)
class Layout:
    """The box's paths under `root`, and its service account."""

    root: Path
    values: dict[str, str]

    @classmethod
    def load(cls, root: Path = Path("/")) -> Layout:
        """Defaults, then the box's hooks.env, then `CALLBOX_*` variables of this process."""
        values = {**DEFAULTS, **read_env_file(root / ENV_FILE)}
        values.update({k: v for k, v in os.environ.items() if k in DEFAULTS})
        return cls(root, values)

    def path(self, absolute: str) -> Path:
        """An absolute path on the box, under this root."""
        return self.root / absolute.lstrip("/")

    @property
    def data(self) -> Path:
        """The appliance's data directory."""
        return self.path(self.values["CALLBOX_DATA_DIR"])

    @property
    def etc(self) -> Path:
        """The appliance's configuration directory."""
        return self.path(self.values["CALLBOX_ETC"])

    @property
    def prefix(self) -> Path:
        """Where releases live: `<prefix>/releases/<id>`, and `<prefix>/current` points at one."""
        return self.path(self.values["CALLBOX_PREFIX"])

    @property
    def provisioned(self) -> Path:
        """Present once first boot has run; the first-boot unit is conditioned on its absence."""
        return self.data / ".provisioned"

    def owner(self) -> tuple[int, int]:
        """uid and gid of the service account, from the root's own /etc/passwd."""
        user = self.values["CALLBOX_USER"]
        for line in read_lines(self.path("/etc/passwd")):
            fields = line.split(":")
            if len(fields) > 3 and fields[0] == user:
                return int(fields[2]), int(fields[3])
        if self.root == Path("/"):
            entry = pwd.getpwnam(user)
            return entry.pw_uid, entry.pw_gid
        raise LookupError(f"no user {user} in {self.path('/etc/passwd')}")


def read_lines(path: Path) -> list[str]:
    """A file's lines, or none when it does not exist."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def write_private(path: Path, text: str, owner: tuple[int, int], mode: int = 0o600) -> None:
    """Write a file that only its owner may read, created with that mode (never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), mode)
        os.fchown(fh.fileno(), *owner)
        fh.write(text)
    os.replace(tmp, path)
