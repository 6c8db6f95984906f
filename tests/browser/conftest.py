"""Fixtures for browser tests: headless Debian Chromium driven by Playwright, against the real daemon."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.box import REPO, Box

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
         "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (Debian's package; Playwright downloads nothing).

    Module scope, not session: Playwright's sync API keeps an event loop running in this thread
    while it is open, and the async tests of later modules need the thread's loop to themselves.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} (Debian package chromium) is required for the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is required for the browser tests")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot under test-artifacts/screenshots/<test>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(tab: Any, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """Start real boxes; each must stop cleanly at the end."""
    if shutil.which("sipp") is None:
        pytest.fail("sipp (Debian package sip-tester) is required")
    boxes: list[Box] = []

    def make(config: str = "", **settings: object) -> Box:
        box = Box(tmp_path / f"box{len(boxes)}", config, **settings)
        box.workdir.mkdir(parents=True)
        boxes.append(box)
        return box.start()

    yield make
    for box in boxes:
        assert box.stop() == 0, box.tail()
