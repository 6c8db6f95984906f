"""A call in progress across an uplink switch: the carrier calls the box through uplink 1, an
operator's phone inside the box answers, uplink 1 is cut, the carrier hangs up later.

The carrier is tests/netns/carrier.py (it follows the box to its new address, as SIPp's UAC
cannot); the phone is SIPp's `operator_answer.xml` on the box's own 127.0.0.1. The call survived
when the box's re-INVITE reached the carrier through uplink 2, its RTP came back from there, and
the carrier's BYE after the switch (to the box's new Contact) was answered through uplink 2.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.box import REPO, ip_trunk, operators, queue
from tests.netns.peers import NsBox, NsSipp
from tests.netns.topology import BOX, CARRIER, Topology

OPERATOR_PORT = 5070


def call_config() -> str:
    """An IP trunk from the carrier, one operator phone on the box's loopback, one queue."""
    return ip_trunk("carrier", CARRIER) + operators(f"sip:101@127.0.0.1:{OPERATOR_PORT}") + queue()


@dataclasses.dataclass
class CallOutcome:
    """What the carrier saw of the call across the switch."""

    bye_answered_from: str  # the source of the 200 to the carrier's BYE, empty if none came
    reinvite_media: str  # the SDP address of the box's last re-INVITE, empty if none came
    rtp_after_switch_from: list[str]  # sources of RTP received after the switch
    media_gap_ms: float  # the longest silence in the box's RTP during the call
    log: dict[str, Any]

    @property
    def survived(self) -> bool:
        """Re-INVITEd to uplink 2, media back from there, the carrier's BYE answered through it."""
        return (self.reinvite_media == BOX["wan2"] and self.bye_answered_from == BOX["wan2"]
                and BOX["wan2"] in self.rtp_after_switch_from)


class CallAcrossSwitch:
    """Start a call, let it run across the switch, collect what the carrier saw."""

    def __init__(self, topo: Topology, workdir: Path, talk_ms: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out = workdir / "carrier.json"
        self.phone = NsSipp(topo.box, "operator_answer.xml", ip="127.0.0.1", local_port=OPERATOR_PORT,
                            keys={"rtp_port": 40000, "ring_ms": 0}, timeout=60,
                            workdir=workdir / "phone")
        self.args = ["ip", "netns", "exec", topo.carrier, sys.executable, "-m", "tests.netns.carrier", CARRIER,
                     f"{BOX['wan1']}:5060", "4951000", str(self.out), str(talk_ms / 1000)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, box: NsBox) -> None:
        """Phone first, then the carrier's INVITE; returns once the call is connected."""
        self.phone.start()
        self.proc = subprocess.Popen(self.args, cwd=REPO, start_new_session=True)
        box.wait_for(lambda: [c for c in box.calls() if c["connected_at"]], 15, "the call to be connected")

    def finish(self, switched_at: float) -> CallOutcome:
        """Wait for the call to end and read the carrier's log."""
        assert self.proc is not None
        self.proc.wait(60)
        log = json.loads(self.out.read_text())
        self.phone.kill()
        reinvites = log["reinvites"]
        after = [src for src, seen in log["rtp"].items() if seen["last"] > switched_at]
        return CallOutcome(log.get("bye_ok", {}).get("src", ""), reinvites[-1]["media"][0] if reinvites else "",
                           after, log["max_gap_ms"], log)

    def stop(self) -> None:
        """Kill both peers (idempotent)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.phone.kill()
