"""Factory reset: back to the state of a freshly flashed box, recordings optionally kept.

Runs before the data is used (`callbox-factory-reset.service`, ordered before first boot and
the appliance), when the kernel command line has `callbox.factory_reset` or the panel left the
flag file `<data>/.factory-reset`. A flag containing `keep-recordings` (or
`callbox.factory_reset=keep-recordings`) keeps the recordings directory. The vendor's
provisioning in /etc/callbox (settings, customer configuration, its secrets) stays.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from firmware_hooks.layout import Layout, read_lines

log = logging.getLogger(__name__)
FLAG = ".factory-reset"
KEEP = "keep-recordings"


def requested(layout: Layout) -> tuple[bool, bool]:
    """(reset asked for, keep recordings) from the flag file and the kernel command line."""
    flag = layout.data / FLAG
    words = " ".join(read_lines(layout.path("/proc/cmdline"))).split()
    cmdline = [w for w in words if w.split("=")[0] == "callbox.factory_reset"]
    asked = flag.exists() or bool(cmdline)
    keep = (flag.exists() and KEEP in flag.read_text()) or any(w.endswith("=" + KEEP) for w in cmdline)
    return asked, keep


def run(layout: Layout, keep_recordings: bool = False) -> list[str]:
    """Wipe the data directory (but recordings if asked), SSH host keys and host name; returns what went."""
    removed: list[str] = []
    if layout.data.is_dir():
        for entry in sorted(layout.data.iterdir()):
            if keep_recordings and entry.name == "recordings":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
    for key in sorted(layout.path("/etc/ssh").glob("ssh_host_*")):
        key.unlink()
        removed.append(str(Path("/etc/ssh") / key.name))
    prefix = layout.values["CALLBOX_HOSTNAME_PREFIX"]
    if layout.path("/etc/hostname").exists():
        layout.path("/etc/hostname").write_text(prefix + "\n")
    log.warning("factory reset: removed %s%s", ", ".join(removed) or "nothing",
                " (recordings kept)" if keep_recordings else "")
    return removed
