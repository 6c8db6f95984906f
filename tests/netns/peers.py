"""The real daemon and SIPp, each run inside a network namespace with `ip netns exec`."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.auth.sessions import digest
from tests.e2e.box import REPO, Box
from tests.support.sipp import Sipp

# GET a URL with a bearer token inside a namespace; prints the JSON body, exits 1 on any failure.
_GET = """import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    print(urllib.request.urlopen(request, timeout=2).read().decode())
except OSError:
    sys.exit(1)
"""


def _udp_bound(pid: int, port: int) -> bool:
    """Whether a process's namespace has a UDP socket on this port (its own /proc/<pid>/net/udp)."""
    try:
        lines = Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[1].endswith(f":{port:04X}") for line in lines if len(line.split()) > 1)


class NsSipp(Sipp):
    """A SIPp peer inside a namespace."""

    def __init__(self, ns: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.args = ["ip", "netns", "exec", ns, *self.args]

    def start(self, ready_timeout: float = 5.0) -> NsSipp:
        """Start sipp in its namespace and wait until its SIP port is bound there."""
        with open(self._file("stderr.txt"), "wb") as err:
            self.proc = subprocess.Popen(self.args, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while not _udp_bound(self.proc.pid, self.local_port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sipp did not start: {self._read('stderr.txt')[-2000:]}")
            time.sleep(0.02)
        return self


class NsBox(Box):
    """`python -m appliance run` inside the box namespace, SIP on 0.0.0.0:5060, HTTP on its 127.0.0.1."""

    def __init__(self, ns: str, workdir: Path, config: str, uplinks: list[dict[str, object]],
                 **settings: object) -> None:
        super().__init__(workdir, config, **settings)
        self.ns, self.uplinks = ns, uplinks
        self.sip_port = 5060
        self.env.update({"CALLBOX_SIP_BIND": "0.0.0.0", "CALLBOX_SIP_PORT": "5060", "CALLBOX_LOG_LEVEL": "INFO",
                         **{f"CALLBOX_{k.upper()}": str(v) for k, v in settings.items()}})
        self.token = "cbx_" + secrets.token_urlsafe(24)

    def start(self, timeout: float = 30.0) -> NsBox:
        """Load the configuration and the uplinks, start the daemon in the namespace, wait for /healthz."""
        cfg = self.workdir / "config.toml"
        cfg.write_text(self.config)
        subprocess.run([sys.executable, "-m", "appliance", "load", str(cfg)], env=self.env, cwd=REPO,
                       check=True, capture_output=True, timeout=60)
        con = sqlite3.connect(self.data / "callbox.sqlite3")
        with con:
            for row in self.uplinks:
                con.execute(f"INSERT INTO uplink ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                            tuple(row.values()))
            con.execute("INSERT INTO api_token (name, token_hash, prefix, role, created_by, created_at) "
                        "VALUES ('tests', ?, ?, 'supervisor', 'tests', datetime('now'))",
                        (digest(self.token), self.token[:10]))
        con.close()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-m", "appliance", "run"],
                                         env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.wait_for(lambda: self.healthz().get("status") == "ok", timeout, "the box to start")
        return self

    def get(self, path: str) -> dict[str, Any]:
        """GET a JSON document from the box's HTTP server inside its namespace ({} if it does not answer)."""
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the box exited with {self.proc.returncode}:\n{self.tail()}")
        result = subprocess.run(["ip", "netns", "exec", self.ns, sys.executable, "-c", _GET,
                                 f"http://127.0.0.1:{self.http_port}{path}", self.token], capture_output=True,
                                timeout=10)
        return dict(json.loads(result.stdout)) if result.returncode == 0 and result.stdout else {}

    def healthz(self) -> dict[str, Any]:
        """/healthz from inside the namespace."""
        return self.get("/healthz")

    def uplink_status(self) -> dict[str, Any]:
        """/api/v1/uplinks."""
        return self.get("/api/v1/uplinks")


class NsRegistrar:
    """tests/netns/registrar.py in the carrier namespace, with its request log."""

    def __init__(self, ns: str, address: str, port: int, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "requests.jsonl"
        self.args = ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.netns.registrar", address, str(port),
                     str(self.log)]
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> NsRegistrar:
        self.proc = subprocess.Popen(self.args, cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + 10
        while not _udp_bound(self.proc.pid, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the registrar did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def requests(self, method: str = "REGISTER") -> list[dict[str, Any]]:
        """The requests received so far, oldest first."""
        try:
            lines = self.log.read_text().splitlines()
        except OSError:
            return []
        return [r for r in map(json.loads, lines) if r["method"] == method]


def at(iso: str) -> float:
    """An ISO timestamp (UTC, with offset) as epoch seconds."""
    return datetime.fromisoformat(iso).timestamp()


def wait_active(box: NsBox, name: str, timeout: float) -> dict[str, Any]:
    """Wait until `name` is the active uplink; returns the uplink status."""
    def check() -> dict[str, Any]:
        status = box.uplink_status()
        return status if status.get("active") == name else {}

    return box.wait_for(check, timeout, f"uplink {name} to be active")


def registered_through(registrar: NsRegistrar, address: str, after: float) -> float | None:
    """When the registrar first got a REGISTER from `address` (an uplink's) with a Contact there, after `after`."""
    for request in registrar.requests("REGISTER"):
        if request["t"] >= after and request["src"] == address and f"@{address}:" in request["contact"]:
            return float(request["t"])
    return None


def wait_registered(box: NsBox, registrar: NsRegistrar, address: str, after: float, timeout: float) -> float:
    """Wait for `registered_through`; returns when the REGISTER arrived."""
    return box.wait_for(lambda: registered_through(registrar, address, after) or 0.0, timeout,
                        f"a REGISTER from {address}")
