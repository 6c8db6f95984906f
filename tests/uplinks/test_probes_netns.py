"""Probes leave through their own uplink: the backup is judged on its own path, not the primary's."""

from __future__ import annotations

import json
import sys

import pytest

from tests.e2e.box import REPO
from tests.netns.peers import NsRegistrar
from tests.netns.topology import CARRIER, Topology, sh

pytestmark = pytest.mark.netns

TARGETS = [f"icmp:{CARRIER}", f"tcp:{CARRIER}:5061", f"sip:{CARRIER}:5060"]


def probe_all(topo: Topology) -> dict[str, dict[str, bool]]:
    """Every target through every uplink, from inside the box namespace."""
    out = sh("ip", "netns", "exec", topo.box, sys.executable, "-m", "tests.netns.probe_check", *TARGETS,
             cwd=str(REPO)).stdout
    return dict(json.loads(out))


def test_probes_are_bound_to_their_uplink(topo: Topology, registrar: NsRegistrar) -> None:
    """With a blackhole beyond ISP 1, every probe through wan1 fails and every probe through wan2 works,
    although the box's default route still points at wan1."""
    assert all(all(ok.values()) for ok in probe_all(topo).values())  # both paths work: a refused TCP counts
    topo.cut("blackhole", "wan1")
    results = probe_all(topo)
    assert results["wan1"] == dict.fromkeys(TARGETS, False), results
    assert results["wan2"] == dict.fromkeys(TARGETS, True), results
    assert topo.default_via() == "wan1"  # only our tables were used; the main route was never touched
