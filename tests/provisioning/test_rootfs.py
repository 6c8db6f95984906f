"""The image recipe for real: a Debian 12 root file system, the Ansible role run twice over the chroot
connection (the second run changes nothing), the tree booted under systemd-nspawn (first boot, the unit,
/healthz), then sealed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.provisioning

VARS = """\
callbox_config:
  version: 1
  settings: {box_name: Image test}
  trunks:
    - {name: carrier-a, kind: ip, host: 127.0.0.2}
    - {name: carrier-b, kind: registration, host: "127.0.0.3:5999", username: "495",
       password: {secret: carrier-b}}
  operators:
    - {name: Anna, extension: "101", seats: ["sip:101@127.0.0.1:5999"]}
  queues:
    - {name: support, members: ["101"]}
  dids:
    - {number: "*", queue: support}
callbox_secrets:
  carrier-b: s3cret
"""


@dataclasses.dataclass
class Run:
    """One stage of image/build-rootfs.sh: its output, duration and (for provision) the play recap."""

    output: str
    seconds: float
    recap: dict[str, int]


@dataclasses.dataclass
class Image:
    """The build directory and what each run reported."""

    out: Path
    runs: dict[str, Run]

    @property
    def rootfs(self) -> Path:
        return self.out / "rootfs"


def snapshot(dest: Path) -> Path:
    """The parts of the repository the role reads, frozen: both runs must see the same source."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("appliance", "web", "firmware_hooks", "image"):
        shutil.copytree(REPO / name, dest / name, ignore=skip)
    for name in ("pyproject.toml", "README.md", "COPYING"):
        shutil.copy2(REPO / name, dest / name)
    return dest


def build(out: Path, stage: str, *extra: str) -> Run:
    """Run one stage of the recipe, with this virtualenv's ansible on PATH and the frozen source."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1",
           "CALLBOX_ANSIBLE_ARGS": f"-e callbox_src={out / 'src'}"}
    start = time.monotonic()
    result = subprocess.run([str(REPO / "image/build-rootfs.sh"), "--stage", stage, *extra, str(out)],
                            env=env, capture_output=True, text=True, timeout=900, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{stage} failed:\n{output[-6000:]}"
    match = re.search(r"^image\s*:\s*(.*)$", output, re.MULTILINE)
    recap = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))} if match else {}
    return Run(output, time.monotonic() - start, recap)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """A rootfs provisioned twice; fails loudly when the tools are missing (./setup.sh test installs them)."""
    assert os.geteuid() == 0, "building a root file system needs root"
    for name in ("mmdebstrap", "systemd-nspawn"):
        assert shutil.which(name), f"{name} is missing: ./setup.sh test installs it"
    out = tmp_path_factory.mktemp("image")
    (out / "vars.yml").write_text(VARS)
    snapshot(out / "src")
    runs = {"base": build(out, "base")}
    runs["provision-1"] = build(out, "provision", "--vars", str(out / "vars.yml"))
    runs["provision-2"] = build(out, "provision", "--vars", str(out / "vars.yml"))
    for name, run in runs.items():
        print(f"{name}: {run.seconds:.0f} s {run.recap}")
    return Image(out, runs)


def test_role_installs_then_changes_nothing(image: Image) -> None:
    first, second = image.runs["provision-1"].recap, image.runs["provision-2"].recap
    assert first["failed"] == 0 and first["changed"] > 10, first
    assert second["failed"] == 0 and second["changed"] == 0, image.runs["provision-2"].output[-4000:]


def test_the_box_is_laid_out(image: Image) -> None:
    root = image.rootfs
    assert (root / "etc/systemd/system/multi-user.target.wants/callbox.service").is_symlink()
    assert (root / "etc/systemd/system/sysinit.target.wants/callbox-firstboot.service").is_symlink()
    assert "Type=notify" in (root / "etc/systemd/system/callbox.service").read_text()
    assert (root / "etc/udev/rules.d/70-callbox-headsets.rules").exists()
    assert "RuntimeWatchdogSec" in (root / "etc/systemd/system.conf.d/callbox-watchdog.conf").read_text()
    secret = root / "etc/callbox/secrets/carrier-b"
    assert secret.read_text() == "s3cret\n" and secret.stat().st_mode & 0o777 == 0o640
    uid = int(next(line.split(":")[2] for line in (root / "etc/passwd").read_text().splitlines()
                   if line.startswith("callbox:")))
    db = root / "var/lib/callbox/callbox.sqlite3"
    assert db.stat().st_uid == uid, "the configuration was applied as the service account"
    with sqlite3.connect(db) as con:
        trunks = dict(con.execute("SELECT name, password FROM trunk").fetchall())
    assert trunks == {"carrier-a": "", "carrier-b": "s3cret"}


@pytest.fixture
def booted(image: Image) -> Iterator[Booted]:
    """The rootfs booted with systemd under systemd-nspawn, on a private network (only its own loopback)."""
    log = (image.out / "boot.log").open("wb")
    proc = subprocess.Popen(["systemd-nspawn", "--register=no", "--keep-unit", "--private-network", "--boot",
                             "-D", str(image.rootfs)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        init = ""
        while not init and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            init = subprocess.run(["pgrep", "-P", str(proc.pid), "-x", "systemd"], capture_output=True,
                                  text=True, check=False).stdout.strip()
        assert init, (image.out / "boot.log").read_text(errors="replace")[-3000:]
        yield Booted(int(init.split()[0]), image.out / "boot.log")
    finally:
        proc.terminate()  # nspawn asks the container's systemd to power off
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@dataclasses.dataclass
class Booted:
    """A running container: its systemd's pid on the host, to run commands inside with nsenter."""

    init: int
    log: Path

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """A command inside the container (all its namespaces)."""
        return subprocess.run(["nsenter", "-t", str(self.init), "-a", *argv], capture_output=True, text=True,
                              timeout=60, check=False)


HEALTHZ = ("import json, sys, urllib.request; "
           "print(json.dumps(json.load(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3))))")


def test_booted_box_runs_the_unit_and_answers_healthz(booted: Booted) -> None:
    deadline, body = time.monotonic() + 90, None
    while time.monotonic() < deadline and body is None:
        result = booted.run("python3", "-c", HEALTHZ)
        if result.returncode == 0:
            body = json.loads(result.stdout)
        else:
            time.sleep(1)
    journal = booted.run("journalctl", "--no-pager", "-b", "-u", "callbox.service",
                         "-u", "callbox-firstboot.service").stdout
    assert body is not None, journal[-4000:]
    assert body["status"] == "ok" and body["engine"]["up"]
    assert {t["name"] for t in body["trunks"]} == {"carrier-a", "carrier-b"}
    show = booted.run("systemctl", "show", "callbox.service", "-p", "Type", "-p", "WatchdogUSec",
                      "-p", "ActiveState", "-p", "User").stdout.split()
    assert sorted(show) == ["ActiveState=active", "Type=notify", "User=callbox", "WatchdogUSec=30s"]
    # First boot ran before the appliance, which shows the same set-up code it left.
    code = booted.run("cat", "/var/lib/callbox/setup-code").stdout.strip()
    assert len(code) == 14 and f"set-up code: {code}" in journal
    assert booted.run("test", "-s", "/etc/ssh/ssh_host_ed25519_key").returncode == 0
    failed = booted.run("systemctl", "--failed", "--no-legend", "--plain").stdout
    assert "callbox" not in failed, failed


def test_seal_removes_what_is_unique_to_a_box(image: Image) -> None:
    # Runs after the boot test (file order), so the tree has been through a first boot.
    run = build(image.out, "finalize")
    print(f"finalize: {run.seconds:.0f} s")
    (tarball,) = image.out.glob("callbox-rootfs-amd64.tar.*")
    listing = subprocess.run(["tar", "-tvf", str(tarball)], capture_output=True, text=True, timeout=300,
                             check=True).stdout.splitlines()
    names = {line.split(None, 5)[5].split(" -> ")[0] for line in listing}
    machine_id = next(line for line in listing if line.endswith(" ./etc/machine-id"))
    assert machine_id.split()[2] == "0", machine_id  # empty: systemd makes one at first boot
    assert "./opt/callbox/current" in names and "./etc/systemd/system/callbox.service" in names
    assert "./var/lib/callbox/callbox.sqlite3" in names, "the customer's configuration ships"
    unique = [n for n in names if n.startswith("./etc/ssh/ssh_host_")
              or n.split("/")[-1] in (".provisioned", "web-secret", "setup-code", "device-id")]
    assert not unique
