"""Runs the device tests that need a process of their own, one pytest child per kind; one result each.

- `under_umockdev*.py` under `umockdev-wrapper`: it preloads libumockdev (LD_PRELOAD) into every
  process it starts, so it cannot be switched on for part of a session.
- `own_process_*.py` plainly: ALSA reads ~/.asoundrc once per process, pjsua2 allows one library.
Each child writes JUnit XML; every test in it is reported as a test here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]
KINDS = {"umockdev": sorted(HERE.glob("under_umockdev*.py")), "own": sorted(HERE.glob("own_process_*.py"))}
TESTS = re.compile(r"^(?:async )?def (test_\w+)", re.M)
NAMES = [(kind, f"{m.stem}::{name}")
         for kind, mods in KINDS.items() for m in mods for name in TESTS.findall(m.read_text())]


def run_child(kind: str, report: Path) -> dict[str, str]:
    """Run one kind's modules in a pytest child; test id -> "" if it passed, else why not."""
    prefix: list[str] = []
    if kind == "umockdev":
        wrapper = shutil.which("umockdev-wrapper")
        if wrapper is None:
            pytest.fail("umockdev-wrapper (Debian package umockdev) is required for the udev tests")
        prefix = [wrapper]
    proc = subprocess.run([*prefix, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--junitxml={report}", *(str(m.relative_to(REPO)) for m in KINDS[kind])],
                          cwd=REPO, capture_output=True, text=True, timeout=400, check=False)
    if not report.exists():
        pytest.fail(f"the {kind} run produced no report:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    results: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        problems = [p for p in (case.find(tag) for tag in ("failure", "error", "skipped")) if p is not None]
        module = case.get("classname", "").rsplit(".", 1)[-1]
        text = "" if not problems else (problems[0].text or problems[0].get("message", "?"))
        results[f"{module}::{case.get('name', '')}"] = text  # (an empty Element is falsy: no `or` above)
    return results


@pytest.fixture(scope="module")
def child_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Every kind's results, each child run once per session."""
    root = tmp_path_factory.mktemp("children")
    return {kind: run_child(kind, root / f"{kind}.xml") for kind in KINDS}


@pytest.mark.parametrize(("kind", "name"), NAMES)
def test_in_own_process(child_results: dict[str, dict[str, str]], kind: str, name: str) -> None:
    results = child_results[kind]
    assert name in results, f"{name} did not run ({kind})"
    assert results[name] == "", results[name]
