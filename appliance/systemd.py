"""The systemd notify protocol: READY, STOPPING and the watchdog, as datagrams to $NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send one notify message; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as err:
        log.warning("systemd notify failed: %s", err)
        return False
    return True


async def watchdog(healthy: Callable[[], bool]) -> None:
    """Ping systemd's watchdog at half its interval, only while `healthy()` (the SIP thread lives)."""
    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    if usec <= 0:
        return
    interval = usec / 2_000_000
    while True:
        if healthy():
            notify("WATCHDOG=1")
        else:
            log.error("not pinging the watchdog: the SIP engine is not running")
        await asyncio.sleep(interval)
