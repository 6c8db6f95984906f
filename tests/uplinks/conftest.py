"""Fixtures for uplink tests in network namespaces: the topology, a carrier registrar, the box."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.netns.peers import NsBox, NsRegistrar
from tests.netns.topology import CARRIER, TRUNK, Topology, uplink_rows


@pytest.fixture(scope="session", autouse=True)
def _tools_installed() -> None:
    for tool in ("ip", "tc", "conntrack", "sipp"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required for the uplink tests (setup.sh test installs it)")


@pytest.fixture
def topo() -> Iterator[Topology]:
    """Fresh namespaces for this test, always deleted afterwards."""
    topology = Topology()
    try:
        yield topology.build()
    finally:
        topology.destroy()


@pytest.fixture
def registrar(topo: Topology, tmp_path: Path) -> Iterator[NsRegistrar]:
    """The carrier's registrar on its address, reachable through both ISPs."""
    with NsRegistrar(topo.carrier, CARRIER, 5060, tmp_path / "registrar") as peer:
        yield peer


@pytest.fixture
def box_in_ns(topo: Topology, tmp_path: Path) -> Iterator[Callable[..., NsBox]]:
    """Start the real daemon in the box namespace; it must stop cleanly at the end."""
    boxes: list[NsBox] = []

    def make(config: str = TRUNK, **settings: object) -> NsBox:
        box = NsBox(topo.box, tmp_path / f"box{len(boxes)}", config, uplink_rows(), **settings)
        box.workdir.mkdir(parents=True)
        boxes.append(box)
        return box.start()

    yield make
    for box in boxes:
        assert box.stop() == 0, box.tail()
