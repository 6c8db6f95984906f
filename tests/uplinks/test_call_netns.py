"""A call in progress when uplink 1 dies: the box re-INVITEs through uplink 2 and the call goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.netns.callflow import CallAcrossSwitch, call_config
from tests.netns.peers import NsBox, NsRegistrar, at, wait_active
from tests.netns.topology import BOX, Topology

pytestmark = pytest.mark.netns


@pytest.mark.parametrize("how", ["link-down", "loss"])
def test_a_call_survives_the_switch(topo: Topology, registrar: NsRegistrar, box_in_ns: Callable[..., NsBox],
                                    tmp_path: Path, how: str) -> None:
    """Re-INVITE with the new address, media back through uplink 2, then a clean BYE through it.

    The registrar answers the trunk monitor's OPTIONS to the carrier, so no trunk incident muddies it."""
    call = CallAcrossSwitch(topo, tmp_path, talk_ms=7000)
    try:
        box = box_in_ns(call_config())
        wait_active(box, "wan1", 15)
        call.start(box)
        topo.cut(how)
        switch = wait_active(box, "wan2", 10)["switches"][-1]
        outcome = call.finish(at(switch["at"]))
    finally:
        call.stop()
    assert outcome.reinvite_media == BOX["wan2"], outcome.log
    assert BOX["wan2"] in outcome.rtp_after_switch_from, outcome.log
    assert outcome.bye_answered_from == BOX["wan2"], outcome.log
    assert outcome.survived
    assert outcome.media_gap_ms < 6000, outcome.log  # silence from the cut until the re-INVITE, no more
    record = box.wait_for(lambda: [c for c in box.calls() if c["ended_at"]], 10, "the call record")[0]
    assert record["disposition"] == "ANSWERED"
    assert record["talk_s"] >= 6
