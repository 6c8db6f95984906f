"""The real appliance in a subprocess, configured from TOML, with its database readable by tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.support.sipp import free_udp_port

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (bounded search)."""
    for _ in range(100):
        port = free_udp_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


class Box:
    """One `callbox run` process bound to 127.0.0.1, with its own data directory and ports."""

    def __init__(self, workdir: Path, config: str, **settings: object) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.sip_port = free_port()  # SIP listens on UDP and TCP
        self.http_port = free_port()
        self.rtp_port = free_udp_port(span=200)
        self.config = config
        self.env = {**os.environ, "CALLBOX_DATA_DIR": str(self.data), "CALLBOX_SIP_BIND": "127.0.0.1",
                    "CALLBOX_SIP_PORT": str(self.sip_port), "CALLBOX_HTTP_HOST": "127.0.0.1",
                    "CALLBOX_HTTP_PORT": str(self.http_port), "CALLBOX_SIP_RTP_PORT": str(self.rtp_port),
                    "CALLBOX_SIP_RTP_PORT_RANGE": "200", "CALLBOX_LOG_LEVEL": "DEBUG",
                    **{f"CALLBOX_{k.upper()}": str(v) for k, v in settings.items()}}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "callbox.log"

    @property
    def sip(self) -> str:
        """The box's SIP address."""
        return f"127.0.0.1:{self.sip_port}"

    def start(self, timeout: float = 60.0) -> Box:
        """Load the configuration, start the daemon, wait for /healthz."""
        cfg = self.workdir / "config.toml"
        cfg.write_text(self.config)
        subprocess.run([sys.executable, "-m", "appliance", "load", str(cfg)], env=self.env, cwd=REPO,
                       check=True, capture_output=True, timeout=60)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "appliance", "run"], env=self.env, cwd=REPO,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: self.healthz().get("status") == "ok", timeout, "the box to start")
        return self

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"the box did not stop within {timeout} s") from None

    def healthz(self) -> dict[str, Any]:
        """The /healthz document, or {} while the server does not answer."""
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the box exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=2) as resp:
                return dict(json.load(resp))
        except OSError:
            return {}

    def rows(self, sql: str, *args: object) -> list[sqlite3.Row]:
        """Query the box's database (WAL: readable while it runs)."""
        con = sqlite3.connect(self.data / "callbox.sqlite3", timeout=5)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def calls(self) -> list[sqlite3.Row]:
        """Call records, oldest first."""
        return self.rows("SELECT * FROM call_record ORDER BY started_at")

    def events(self, call_id: str | None = None) -> list[tuple[str, str]]:
        """(event, agent) of the queue events, in order, optionally of one call."""
        where, args = ("WHERE call_id = ?", (call_id,)) if call_id else ("", ())
        return [(r["event"], r["agent"]) for r in self.rows(f"SELECT * FROM queue_event {where} ORDER BY id", *args)]

    def wait_for(self, check: Callable[[], T], timeout: float = 10.0, what: str = "a condition") -> T:
        """Poll until `check()` is truthy (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, lines: int = 60) -> str:
        """The end of the daemon's log, for failure messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def ip_trunk(name: str = "carrier", source: str = "127.0.0.2") -> str:
    """TOML of an IP-authenticated trunk whose carrier sends from `source`."""
    return f'[[trunk]]\nname = "{name}"\nkind = "ip"\nhost = "{source}"\n'


def operators(*targets: str) -> str:
    """TOML of operators 101, 102, ... reachable at the given SIP URIs."""
    return "".join(f'[[operator]]\nname = "op{101 + i}"\nextension = "{101 + i}"\nseats = ["{t}"]\n'
                   for i, t in enumerate(targets))


def queue(name: str = "support", members: int = 1, **fields: object) -> str:
    """TOML of a queue with the first `members` operators, taking every DID."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())
    member_list = ", ".join(f'"{101 + i}"' for i in range(members))
    return (f'[[queue]]\nname = "{name}"\nmembers = [{member_list}]\n{extra}'
            f'[[did]]\nnumber = "*"\nqueue = "{name}"\n')
