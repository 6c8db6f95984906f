"""Fixtures for end-to-end tests: the real daemon and SIPp peers on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.box import Box
from tests.support.rtp import write_tone_pcap

pytestmark = pytest.mark.sip


@pytest.fixture(scope="session", autouse=True)
def _sipp_installed() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp (Debian package sip-tester) is required for the end-to-end tests")


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """Start boxes with a given configuration; all are stopped (and must stop cleanly) at the end."""
    boxes: list[Box] = []

    def make(config: str, **settings: object) -> Box:
        box = Box(tmp_path / f"box{len(boxes)}", config, **settings)
        box.workdir.mkdir(parents=True)
        boxes.append(box)
        return box.start()

    yield make
    for box in boxes:
        assert box.stop() == 0, box.tail()


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """pcaps of 6 s tones: 1000 Hz (the caller speaks) and 440 Hz (the operator speaks)."""
    root = tmp_path_factory.mktemp("tones")
    return {f: write_tone_pcap(root / f"tone{f}.pcap", f, 6.0) for f in (1000, 440)}
