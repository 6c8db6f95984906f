"""Secrets in configuration documents: references resolved at apply time, never written in clear unless asked.

A secret field holds either the value in clear or `{secret: NAME}`. NAME is looked up as the file
`<secrets dir>/NAME` (default `/etc/callbox/secrets`, or `$CALLBOX_SECRETS_DIR`), then as the
environment variable `CALLBOX_SECRET_<NAME>` (upper case, other characters as `_`). A reference
that `export` wrote for the box's own value (`trunk/<name>/password`) and that is found nowhere
means "keep the value the box has": so an exported file applies back unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_DIR = Path("/etc/callbox/secrets")


class SecretNotFound(LookupError):
    """A reference that names no file, no variable, and no value the box already has."""


class Secrets:
    """Where references are looked up, and where `export --secrets-dir` writes them."""

    def __init__(self, directory: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self.directory = directory or Path(self.env.get("CALLBOX_SECRETS_DIR") or DEFAULT_DIR)

    def _file(self, name: str) -> Path:
        if ".." in Path(name).parts:
            raise SecretNotFound(f"secret name {name!r} may not contain '..'")
        return self.directory / name

    def lookup(self, name: str) -> str | None:
        """The value of a reference from the directory or the environment, or None."""
        try:
            return self._file(name).read_text().rstrip("\n")
        except FileNotFoundError:
            pass
        except OSError as err:
            raise SecretNotFound(f"secret {name}: cannot read {self._file(name)}: {err.strerror}") from err
        return self.env.get("CALLBOX_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper())

    def resolve(self, value: object, own_ref: str, current: str | None) -> str:
        """A field's value in clear: the clear text given, or what its reference points at."""
        if isinstance(value, str):
            return value
        name = str(value["secret"]) if isinstance(value, dict) else ""
        found = self.lookup(name)
        if found is not None:
            return found
        if name == own_ref and current is not None:
            return current
        raise SecretNotFound(f"secret {name!r} is neither in {self.directory} nor in the environment "
                             f"(CALLBOX_SECRET_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()})")

    def store(self, name: str, value: str) -> None:
        """Write one secret file, readable by its owner only."""
        path = self._file(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(value + "\n")
