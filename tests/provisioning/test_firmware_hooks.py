"""firmware_hooks in a temporary root: first boot, factory reset, watchdog; unit files verified."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / "firmware_hooks"
# The system's interpreter, without the appliance's virtualenv: the hooks need the standard library only.
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
VARS = {"callbox_user": "callbox", "callbox_prefix": "/opt/callbox", "callbox_data_dir": "/var/lib/callbox",
        "callbox_etc": "/etc/callbox", "callbox_watchdog_sec": 30}


def make_root(root: Path, machine_id: str) -> Path:
    """A box's skeleton: passwd naming the service account (as us), hooks.env, sshd, machine id."""
    (root / "etc/callbox").mkdir(parents=True)
    (root / "etc/ssh").mkdir()
    (root / "etc/ssh/sshd_config").write_text("# test\n")
    (root / "etc/passwd").write_text(
        f"root:x:0:0::/root:/bin/sh\ncallbox:x:{os.getuid()}:{os.getgid()}::/:/bin/false\n")
    (root / "etc/machine-id").write_text(machine_id + "\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tbuilder\n")
    (root / "etc/hostname").write_text("builder\n")
    (root / "etc/callbox/hooks.env").write_text("# test box\nCALLBOX_DATA_DIR=/var/lib/callbox\n"
                                               "CALLBOX_HOSTNAME_PREFIX=callbox\n")
    return root


def hook(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python3 -m firmware_hooks --root ROOT ...` as the units do (standard library only)."""
    return subprocess.run([SYSTEM_PYTHON, "-m", "firmware_hooks", "--root", str(root), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def secrets_of(root: Path) -> dict[str, str]:
    data = root / "var/lib/callbox"
    keys = sorted((root / "etc/ssh").glob("ssh_host_*_key"))
    return {"web": (data / "web-secret").read_text(), "code": (data / "setup-code").read_text(),
            "device": (data / "device-id").read_text(), **{k.name: k.read_text() for k in keys}}


def test_first_boot_makes_each_box_unique(tmp_path: Path) -> None:
    a = make_root(tmp_path / "a", "0123456789abcdef0123456789abcdef")
    b = make_root(tmp_path / "b", "fedcba9876543210fedcba9876543210")
    for root in (a, b):
        result = hook(root, "firstboot")
        assert result.returncode == 0 and "provisioned" in result.stdout, result.stderr
        assert "set-up code" in result.stdout
    sa, sb = secrets_of(a), secrets_of(b)
    assert "ssh_host_ed25519_key" in sa
    assert all(sa[k] != sb[k] for k in sa), "two boxes share a secret"
    data = a / "var/lib/callbox"
    for name in ("web-secret", "setup-code"):
        st = (data / name).stat()
        assert st.st_mode & 0o777 == 0o600 and st.st_uid == os.getuid()
    code = sa["code"].strip()
    assert len(code) == 14 and code.count("-") == 2 and not set(code) & set("01OI")
    assert (a / "etc/hostname").read_text() == "callbox-012345\n"
    assert "127.0.1.1\tcallbox-012345" in (a / "etc/hosts").read_text().splitlines()
    again = hook(a, "firstboot")
    assert again.stdout.strip() == "already provisioned" and secrets_of(a) == sa


def test_factory_reset_returns_to_first_boot(tmp_path: Path) -> None:
    root = make_root(tmp_path / "box", "0123456789abcdef0123456789abcdef")
    hook(root, "firstboot")
    before = secrets_of(root)
    data = root / "var/lib/callbox"
    (data / "callbox.sqlite3").write_text("db")
    (data / "recordings/2026").mkdir(parents=True)
    (data / "recordings/2026/call.wav").write_text("audio")
    assert hook(root, "factory-reset", "--if-requested").stdout.strip() == "no factory reset requested"
    assert (data / "callbox.sqlite3").exists()
    (data / ".factory-reset").write_text("keep-recordings\n")
    result = hook(root, "factory-reset", "--if-requested")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in data.iterdir()) == ["recordings"]
    assert (data / "recordings/2026/call.wav").read_text() == "audio"
    assert not list((root / "etc/ssh").glob("ssh_host_*"))
    assert (root / "etc/callbox/hooks.env").exists(), "the vendor's provisioning stays"
    assert hook(root, "firstboot").stdout.splitlines()[-1] == "provisioned"
    after = secrets_of(root)
    assert all(after[k] != before[k] for k in before)
    hook(root, "factory-reset")
    assert not data.exists() or not any(data.iterdir())


def test_watchdog_is_armed_once(tmp_path: Path) -> None:
    root = make_root(tmp_path / "pi", "0" * 32)
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text("[all]\narm_64bit=1\n")
    first = hook(root, "watchdog")
    assert first.stdout.strip() == ("changed: /etc/systemd/system.conf.d/callbox-watchdog.conf, "
                                    "/boot/firmware/config.txt")
    conf = (root / "etc/systemd/system.conf.d/callbox-watchdog.conf").read_text()
    assert "RuntimeWatchdogSec=15s" in conf
    assert hook(root, "watchdog").stdout.strip() == "unchanged"
    assert (root / "boot/firmware/config.txt").read_text().count("dtparam=watchdog=on") == 1


def render(template: Path) -> str:
    """A unit or rule as the Ansible role renders it, with the role's defaults."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.from_string(template.read_text()).render(**VARS)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is part of systemd")
def test_units_verify(tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    for template in sorted((HOOKS / "systemd").glob("*.j2")):
        (units / template.name.removesuffix(".j2")).write_text(render(template))
    names = sorted(str(p) for p in units.iterdir())
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], capture_output=True, text=True,
                            timeout=60, check=False)
    problems = [line for line in result.stderr.splitlines()
                if "Command /opt/callbox" not in line and "is not executable" not in line
                and "ssh.service" not in line and "boot-complete" not in line]
    assert not problems, result.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                               str(units / "callbox.service")], capture_output=True, text=True, timeout=60,
                              check=False)
    exposure = float(security.stdout.split("Overall exposure level for callbox.service:")[1].split()[0])
    assert exposure <= 2.5, security.stdout  # measured 1.9 ("OK") with the hardening in the unit


def test_udev_rules_have_a_label_for_every_goto() -> None:
    text = (HOOKS / "udev/70-callbox-headsets.rules").read_text()
    gotos = {part.split('"')[1] for part in text.split("GOTO=")[1:]}
    assert gotos == {"callbox_headsets_end"} and 'LABEL="callbox_headsets_end"' in text
    assert 'GROUP="callbox", MODE="0660"' in text  # the role's default service account
