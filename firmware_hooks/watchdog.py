"""Hardware watchdog: systemd feeds /dev/watchdog, so a hung kernel or PID 1 reboots the box.

The appliance itself is watched by its unit's `WatchdogSec=` (the daemon pings only while its
SIP thread lives); this covers the layer below. On a Raspberry Pi the firmware must also
enable the SoC's watchdog (`dtparam=watchdog=on` in config.txt).
"""

from __future__ import annotations

from firmware_hooks.layout import Layout, read_lines

DROP_IN = "/etc/systemd/system.conf.d/callbox-watchdog.conf"
PI_CONFIGS = ("/boot/firmware/config.txt", "/boot/config.txt")
PI_LINE = "dtparam=watchdog=on"


def drop_in(runtime_s: int = 15, reboot_s: int = 120) -> str:
    """The system.conf drop-in that arms the hardware watchdog."""
    return ("# Written by firmware_hooks.watchdog: systemd pings the hardware watchdog.\n[Manager]\n"
            f"RuntimeWatchdogSec={runtime_s}s\nRebootWatchdogSec={reboot_s}s\n")


def enable(layout: Layout, runtime_s: int = 15, reboot_s: int = 120) -> list[str]:
    """Write the drop-in and, on a Pi, the firmware line; returns the files changed (none on a rerun)."""
    changed = []
    path = layout.path(DROP_IN)
    text = drop_in(runtime_s, reboot_s)
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changed.append(DROP_IN)
    for config in PI_CONFIGS:
        config_path = layout.path(config)
        if config_path.exists():
            lines = read_lines(config_path)
            if PI_LINE not in (line.strip() for line in lines):
                config_path.write_text("\n".join([*lines, PI_LINE]) + "\n")
                changed.append(config)
            break
    return changed
