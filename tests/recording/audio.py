"""Test helpers for encoded recordings: decode an Ogg Opus file with Debian's opusdec."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def decode_opus(path: Path, out: Path, rate: int = 8000) -> Path:
    """Decode `path` to a 16-bit WAV at `rate` (opusdec from opus-tools: fails loudly without it)."""
    if shutil.which("opusdec") is None:
        raise AssertionError("opusdec (Debian package opus-tools) is required")
    subprocess.run(["opusdec", "--quiet", "--rate", str(rate), str(path), str(out)], check=True, timeout=60)
    return out
