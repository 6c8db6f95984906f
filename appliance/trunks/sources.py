"""Which trunk an INVITE came from, by its source address."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def split_host_port(host: str, default_port: int = 5060) -> tuple[str, int]:
    """`'sip.carrier.net:5080'`, `'[2001:db8::1]:5060'` or a bare host into host and port."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, int(rest.lstrip(":") or default_port)
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, int(port)
    return host, default_port


def parse_networks(text: str) -> list[Network]:
    """Comma-separated addresses or CIDRs; raises ValueError naming the bad entry."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as err:
                raise ValueError(f"not an address or network: {item!r}") from err
    return networks


async def resolve(host: str) -> list[Network]:
    """The addresses a carrier host name resolves to, as /32 or /128 networks."""
    name, port = split_host_port(host)
    try:
        return [ipaddress.ip_network(name)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_DGRAM)
    except OSError as err:
        log.warning("cannot resolve carrier host %s: %s", name, err)
        return []
    return [ipaddress.ip_network(info[4][0]) for info in infos]


class SourceMap:
    """Source networks per trunk; the first trunk whose networks hold an address wins."""

    def __init__(self, entries: list[tuple[str, list[Network]]]) -> None:
        self._entries = entries

    def match(self, address: str) -> str | None:
        """The trunk an address belongs to, or None for a stranger."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for trunk, networks in self._entries:
            if any(ip in network for network in networks):
                return trunk
        return None
