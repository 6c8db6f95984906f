"""Update hooks in a temporary root: a healthy release stays, a broken one is rolled back with its data."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.provisioning.test_firmware_hooks import hook, make_root

# A release's "daemon": migrates the database to its version, then serves /healthz (or dies, if broken).
APP = textwrap.dedent("""\
    import http.server, json, sqlite3, sys
    port, db, version, broken = int(sys.argv[1]), sys.argv[2], VERSION, BROKEN
    with sqlite3.connect(db) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS schema_v{version} (id INTEGER)")
    if broken:
        sys.exit("release %d cannot start" % version)
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "version": version}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *args): pass
    http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
    """)

# What `systemctl restart|stop callbox` does on a box, for the fake releases above.
SERVICE = textwrap.dedent("""\
    import os, signal, subprocess, sys, time
    root, port, action = sys.argv[1], sys.argv[2], sys.argv[3]
    pidfile = os.path.join(root, "run-callbox.pid")
    if os.path.exists(pidfile):
        try:
            os.kill(int(open(pidfile).read()), signal.SIGTERM); time.sleep(0.3)
        except ProcessLookupError:
            pass
        os.unlink(pidfile)
    if action == "restart":
        app = os.path.join(root, "opt/callbox/current/app.py")
        db = os.path.join(root, "var/lib/callbox/callbox.sqlite3")
        proc = subprocess.Popen([sys.executable, app, port, db], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open(pidfile, "w").write(str(proc.pid))
    """)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def box(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A provisioned root with releases 1 (running), 2 (good) and 3 (broken), and a fake service manager."""
    root = make_root(tmp_path / "box", "ab" * 16)
    releases = root / "opt/callbox/releases"
    for version, broken in ((1, False), (2, False), (3, True)):
        (releases / str(version)).mkdir(parents=True)
        (releases / str(version) / "app.py").write_text(
            APP.replace("VERSION", str(version)).replace("BROKEN", str(broken)))
    (root / "opt/callbox/current").symlink_to("releases/1")
    (root / "var/lib/callbox").mkdir(parents=True)
    with sqlite3.connect(root / "var/lib/callbox/callbox.sqlite3") as con:
        con.execute("CREATE TABLE call_record (id TEXT)")
        con.execute("INSERT INTO call_record VALUES ('kept')")
    port = free_port()
    service = tmp_path / "service.py"
    service.write_text(SERVICE)
    env = {"CALLBOX_HEALTH_URL": f"http://127.0.0.1:{port}/healthz",
           "CALLBOX_RESTART_CMD": f"{sys.executable} {service} {root} {port} restart",
           "CALLBOX_STOP_CMD": f"{sys.executable} {service} {root} {port} stop"}
    yield root, env
    pidfile = root / "run-callbox.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGTERM)


def tables(root: Path) -> set[str]:
    with sqlite3.connect(root / "var/lib/callbox/callbox.sqlite3") as con:
        return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_healthy_update_stays(box: tuple[Path, dict[str, str]]) -> None:
    root, env = box
    result = hook(root, "update", "2", "--timeout", "10", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("release 2 is healthy")
    assert os.readlink(root / "opt/callbox/current") == "releases/2"
    assert "schema_v2" in tables(root)
    assert len(list((root / "var/lib/callbox/backups").glob("pre-update-*.sqlite3"))) == 1


def test_a_failed_update_rolls_back_release_and_database(box: tuple[Path, dict[str, str]]) -> None:
    root, env = box
    assert hook(root, "update", "2", "--timeout", "10", env=env).returncode == 0
    result = hook(root, "update", "3", "--timeout", "4", env=env)
    assert result.returncode == 1
    assert "update failed: release 3 was not healthy; rolled back to 2" in result.stdout, result.stderr
    assert os.readlink(root / "opt/callbox/current") == "releases/2"
    # Release 3 migrated the database before dying: the copy taken before the switch is back.
    assert tables(root) == {"call_record", "schema_v2"}
    assert hook(root, "post-update", "--timeout", "10", env=env).stdout.strip() == "release 2 is healthy"


def test_switch_refuses_a_missing_release(box: tuple[Path, dict[str, str]]) -> None:
    root, env = box
    result = hook(root, "switch", "9", env=env)
    assert result.returncode != 0 and "no release 9" in result.stderr
    assert os.readlink(root / "opt/callbox/current") == "releases/1"
