"""A box with two uplinks, two ISPs and a carrier, each in a network namespace the test creates.

```
box ns                      isp1 ns                       carrier ns
 wan1 10.1.0.2/24 ── lan 10.1.0.1 │ core 10.11.0.1 ── isp1 10.11.0.2 ┐
 wan2 10.2.0.2/24 ── lan 10.2.0.1 │ core 10.12.0.1 ── isp2 10.12.0.2 ┤ lo 198.51.100.10/32
                            isp2 ns                                   ┘ (SIPp registrar)
```
The carrier is reachable through both ISPs. The box starts with a DHCP-style default route
(metric 100) through ISP 1, as a real box would have before the daemon starts. Every address
lives inside these namespaces; nothing leaves them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import time

import pytest

CARRIER = "198.51.100.10"
BOX = {"wan1": "10.1.0.2", "wan2": "10.2.0.2"}
GATEWAY = {"wan1": "10.1.0.1", "wan2": "10.2.0.1"}
_serial = itertools.count(1)
TRUNK = (f'[[trunk]]\nname = "carrier-reg"\nkind = "registration"\nhost = "{CARRIER}:5060"\n'
         'username = "callbox"\npassword = "s3cret"\nrealm = "carrier.test"\n')


def uplink_rows(targets: str = f"icmp:{CARRIER}") -> list[dict[str, object]]:
    """The two uplinks as database rows: wan1 primary, wan2 backup."""
    return [{"name": name, "interface": name, "gateway": GATEWAY[name], "priority": prio,
             "probe_targets": targets, "ip_trunks": "", "public_address": BOX[name], "enabled": 1}
            for name, prio in (("wan1", 1), ("wan2", 2))]


def sh(*args: str, check: bool = True, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command (ip, tc) and return its result; failures raise with stderr."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=20, cwd=cwd)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def drop_everything(ns: str, device: str) -> str:
    """100 % egress loss on a device: `tc netem loss 100%`, or on a kernel without sch_netem (as on
    some CI VMs) a `pfifo limit 0` root qdisc, which drops every packet just the same."""
    netem = sh("tc", "-n", ns, "qdisc", "replace", "dev", device, "root", "netem", "loss", "100%", check=False)
    if netem.returncode == 0:
        return "netem loss 100%"
    if "unknown" not in netem.stderr:
        raise RuntimeError(f"tc netem failed: {netem.stderr.strip()}")
    sh("tc", "-n", ns, "qdisc", "replace", "dev", device, "root", "pfifo", "limit", "0")
    return "pfifo limit 0"


class Topology:
    """The four namespaces of one test, unique by name, always removed by `destroy()`."""

    def __init__(self) -> None:
        tag = f"cb{os.getpid() % 100000}x{next(_serial)}"
        self.box, self.isp1, self.isp2, self.carrier = (f"{tag}-{n}" for n in ("box", "isp1", "isp2", "car"))
        self.created: list[str] = []
        self.loss_method = ""

    @property
    def isp(self) -> dict[str, str]:
        """The ISP namespace behind each uplink."""
        return {"wan1": self.isp1, "wan2": self.isp2}

    def build(self) -> Topology:
        """Create namespaces, links, addresses and routes; fails the test loudly without netns support."""
        if os.geteuid() != 0:
            pytest.fail("network-namespace tests need root (CI runs as root)")
        try:
            self._build()
        except BaseException:
            self.destroy()
            raise
        return self

    def _build(self) -> None:
        for ns in (self.box, self.isp1, self.isp2, self.carrier):
            result = sh("ip", "netns", "add", ns, check=False)
            if result.returncode != 0:
                pytest.fail(f"cannot create network namespace {ns}: {result.stderr.strip()}")
            self.created.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for n, isp in ((1, self.isp1), (2, self.isp2)):
            self._veth(self.box, f"wan{n}", f"10.{n}.0.2/24", isp, "lan", f"10.{n}.0.1/24")
            self._veth(isp, "core", f"10.1{n}.0.1/30", self.carrier, f"isp{n}", f"10.1{n}.0.2/30")
            sh("ip", "netns", "exec", isp, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            sh("ip", "-n", isp, "route", "add", "198.51.100.0/24", "via", f"10.1{n}.0.2")
            sh("ip", "-n", self.carrier, "route", "add", f"10.{n}.0.0/24", "via", f"10.1{n}.0.1")
        sh("ip", "-n", self.carrier, "addr", "add", f"{CARRIER}/32", "dev", "lo")
        sh("ip", "-n", self.box, "route", "add", "default", "via", GATEWAY["wan1"], "metric", "100")

    @staticmethod
    def _veth(ns_a: str, name_a: str, addr_a: str, ns_b: str, name_b: str, addr_b: str) -> None:
        sh("ip", "link", "add", name_a, "netns", ns_a, "type", "veth", "peer", "name", name_b, "netns", ns_b)
        for ns, name, addr in ((ns_a, name_a, addr_a), (ns_b, name_b, addr_b)):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", name)
            sh("ip", "-n", ns, "link", "set", name, "up")

    def destroy(self) -> None:
        """Kill whatever still runs in our namespaces, then delete them."""
        for ns in self.created:
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
        for ns in self.created:
            sh("ip", "netns", "del", ns, check=False)
        self.created.clear()

    # -- what the tests do to uplink 1 ----------------------------------------------------
    def cut(self, how: str, uplink: str = "wan1") -> None:
        """Break an uplink: `link-down` (box side), `far-end` (the modem's side dies),
        `loss` (100 % egress loss), `blackhole` (beyond the modem: routing sees nothing)."""
        isp = self.isp[uplink]
        if how == "link-down":
            sh("ip", "-n", self.box, "link", "set", uplink, "down")
        elif how == "far-end":
            sh("ip", "-n", isp, "link", "set", "lan", "down")
        elif how == "loss":
            self.loss_method = drop_everything(self.box, uplink)
        elif how == "blackhole":
            sh("ip", "-n", isp, "route", "replace", "blackhole", "198.51.100.0/24")
        else:
            raise ValueError(how)

    def restore(self, how: str, uplink: str = "wan1") -> None:
        """Undo `cut(how)`."""
        isp, n = self.isp[uplink], uplink[-1]
        if how == "link-down":
            sh("ip", "-n", self.box, "link", "set", uplink, "up")
        elif how == "far-end":
            sh("ip", "-n", isp, "link", "set", "lan", "up")
        elif how == "loss":
            sh("tc", "-n", self.box, "qdisc", "del", "dev", uplink, "root", check=False)
        elif how == "blackhole":
            sh("ip", "-n", isp, "route", "replace", "198.51.100.0/24", "via", f"10.1{n}.0.2")

    def stale_flows(self, uplink: str = "wan1") -> None:
        """Conntrack entries as a SIP and an RTP flow through an uplink leave them (with a firewall)."""
        for sport, dport in ((5060, 5060), (10002, 30000)):
            sh("ip", "netns", "exec", self.box, "conntrack", "-I", "-p", "udp", "-s", BOX[uplink], "-d", CARRIER,
               "--sport", str(sport), "--dport", str(dport), "-t", "300")

    def flows(self) -> str:
        """The box's conntrack table."""
        return sh("ip", "netns", "exec", self.box, "conntrack", "-L", check=False).stdout

    def routes(self, table: str = "main") -> str:
        """`ip route show table ...` in the box."""
        return sh("ip", "-n", self.box, "route", "show", "table", table).stdout

    def default_via(self) -> str:
        """The box's preferred default route's interface (lowest metric)."""
        best: tuple[int, str] = (1 << 30, "")
        for line in self.routes().splitlines():
            if line.startswith("default"):
                words = line.split()
                metric = int(words[words.index("metric") + 1]) if "metric" in words else 0
                best = min(best, (metric, words[words.index("dev") + 1]))
        return best[1]

    def wait(self, check: object, timeout: float, what: str) -> None:
        """Poll a callable until truthy."""
        deadline = time.monotonic() + timeout
        while not check():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)
