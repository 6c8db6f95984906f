"""Flush conntrack entries of SIP and RTP after a switch, with the `conntrack` tool (Debian package).

A UDP flow to the carrier's port 5060 keeps its old NAT and route decision while REGISTERs keep
it alive, so after a switch REGISTERs can vanish into the dead uplink until the entry is gone.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil

log = logging.getLogger(__name__)


def _filters(sip_ports: list[int], all_udp: bool) -> list[list[str]]:
    """`conntrack -D` filters: UDP to or from each SIP port, or every UDP flow (RTP included)."""
    if all_udp:  # RTP ports are a range of thousands; losing DNS/NTP flow state is harmless
        return [[]]
    filters = []
    for port in sip_ports:
        filters += [["--orig-port-dst", str(port)], ["--orig-port-src", str(port)]]
    return filters


async def flush(sip_ports: list[int], all_udp: bool = True) -> int:
    """Delete SIP (or all UDP) conntrack entries; returns how many were deleted, -1 if impossible."""
    tool = shutil.which("conntrack")
    if tool is None:
        log.error("conntrack tool missing (Debian package conntrack): stale SIP flows not flushed")
        return -1
    deleted = 0
    for extra in _filters(sip_ports, all_udp):
        proc = await asyncio.create_subprocess_exec(tool, "-D", "-p", "udp", *extra,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
        _out, err = await proc.communicate()
        found = re.search(rb"(\d+) flow entries have been deleted", err)
        deleted += int(found.group(1)) if found else 0
    return deleted
