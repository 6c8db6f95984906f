"""Routes and rules through netlink (pyroute2): each uplink's own table, and the main default route.

Layout, per uplink at position i: table 100+i holds `default via <gateway> dev <interface>`;
rule 1000+2i `from <uplink address> lookup 100+i` and rule 1001+2i `oif <interface> lookup 100+i`
send bound probes out of their own uplink. The main table's default route (metric 10, below
any DHCP client's) points at the active uplink. A link that went down loses its routes and the
kernel does not put them back on link-up, so `ensure()` re-installs them on every probe round.
Needs CAP_NET_ADMIN.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
from pathlib import Path
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from appliance.uplinks.config import UplinkSpec

log = logging.getLogger(__name__)
MAIN_TABLE = 254
ACTIVE_METRIC = 10
CAP_NET_ADMIN = 12


def has_net_admin() -> bool:
    """Whether this process may change routes (CAP_NET_ADMIN in its effective set)."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return False
    found = [line.split()[1] for line in lines if line.startswith("CapEff:")]
    return bool(found) and bool(int(found[0], 16) >> CAP_NET_ADMIN & 1)


@dataclasses.dataclass(frozen=True)
class LinkState:
    """What the kernel says of an uplink's interface."""

    exists: bool
    carrier: bool  # the link is up and has a carrier (the modem's side is alive)
    address: str  # its first IPv4 address, empty if none
    gateway: str  # the configured gateway, or the one a DHCP client installed


async def _rows(result: Any) -> list[Any]:
    """pyroute2 returns lists for some requests and async generators for others."""
    result = await result
    if isinstance(result, list | tuple):
        return list(result)
    return [row async for row in result]


class RouteManager:
    """Reads link state and installs the routes and rules of the uplinks."""

    def __init__(self, specs: list[UplinkSpec]) -> None:
        self._specs = specs
        self._ipr: AsyncIPRoute | None = None

    async def open(self) -> None:
        """Open the netlink socket."""
        # pyroute2 logs every netlink message at DEBUG: twice a second per uplink that drowns the log.
        logging.getLogger("pyroute2").setLevel(max(logging.INFO, logging.getLogger("pyroute2").level))
        self._ipr = AsyncIPRoute()
        await self._ipr.setup_endpoint()

    async def close(self) -> None:
        """Close the netlink socket."""
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    @property
    def ipr(self) -> AsyncIPRoute:
        """The open netlink socket."""
        if self._ipr is None:
            raise RuntimeError("RouteManager is not open")
        return self._ipr

    async def link_state(self, spec: UplinkSpec) -> LinkState:
        """The interface's carrier, address and gateway."""
        found = await self.ipr.link_lookup(ifname=spec.interface)
        if not found:
            return LinkState(False, False, "", spec.gateway)
        index = found[0]
        link = (await _rows(self.ipr.link("get", index=index)))[0]
        carrier = link.get("operstate") in ("UP", "UNKNOWN") and bool(link.get("carrier", 1))
        addrs = await _rows(self.ipr.addr("dump", index=index, family=socket.AF_INET))
        address = str(addrs[0].get("address")) if addrs else ""
        return LinkState(True, carrier, address, spec.gateway or await self._dhcp_gateway(index))

    async def _dhcp_gateway(self, index: int) -> str:
        for route in await _rows(self.ipr.route("dump", family=socket.AF_INET, table=MAIN_TABLE)):
            if route.get("dst_len") == 0 and route.get("oif") == index and route.get("priority") != ACTIVE_METRIC:
                return str(route.get("gateway") or "")
        return ""

    async def ensure(self, spec: UplinkSpec, state: LinkState) -> None:
        """(Re)install the uplink's own table and rules; a no-op when they are in place."""
        if not (state.exists and state.carrier and state.gateway):
            return
        index = (await self.ipr.link_lookup(ifname=spec.interface))[0]
        await self.ipr.route("replace", dst="0.0.0.0/0", gateway=state.gateway, oif=index, table=spec.table)
        wanted = [{"priority": spec.rule_priority + 1, "oifname": spec.interface}]
        if state.address:
            wanted.insert(0, {"priority": spec.rule_priority, "src": state.address, "src_len": 32})
        present = {(r.get("priority"), r.get("table")) for r in
                   await _rows(self.ipr.get_rules(family=socket.AF_INET))}
        for rule in wanted:
            if (rule["priority"], spec.table) not in present:
                await self._add_rule(spec.table, rule)

    async def _add_rule(self, table: int, rule: dict[str, Any]) -> None:
        try:
            await self.ipr.rule("add", table=table, **rule)
        except NetlinkError as err:
            if err.code != 17:  # EEXIST: another rule holds the priority; ours is in place
                raise

    async def activate(self, spec: UplinkSpec, state: LinkState) -> None:
        """Point the main table's default route at this uplink."""
        index = (await self.ipr.link_lookup(ifname=spec.interface))[0]
        await self.ipr.route("replace", dst="0.0.0.0/0", gateway=state.gateway, oif=index,
                             table=MAIN_TABLE, priority=ACTIVE_METRIC)

    async def active_interface(self) -> str:
        """The interface our default route uses now, empty if there is none."""
        for route in await _rows(self.ipr.route("dump", family=socket.AF_INET, table=MAIN_TABLE)):
            if route.get("dst_len") == 0 and route.get("priority") == ACTIVE_METRIC:
                for spec in self._specs:
                    found = await self.ipr.link_lookup(ifname=spec.interface)
                    if found and found[0] == route.get("oif"):
                        return spec.interface
        return ""

    async def remove(self) -> None:
        """Take out our tables and rules (the main default route stays: the box keeps its internet)."""
        for spec in self._specs:
            for priority in (spec.rule_priority, spec.rule_priority + 1):
                with contextlib.suppress(NetlinkError):
                    await self.ipr.rule("del", table=spec.table, priority=priority)
            with contextlib.suppress(NetlinkError):
                await self.ipr.route("del", dst="0.0.0.0/0", table=spec.table)
