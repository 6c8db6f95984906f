"""The box killed with SIGKILL mid-batch and mid-work, twice, then restarted: the cloud has every
record exactly once (a real subprocess running the daemon with the in-memory SIP engine)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

from appliance.cloud.receiver import Faults, Receiver
from tests.cloud.harness import DEVICE, TOKEN, assert_exactly_once, box_rows, outbox_empty, receiver, url_of
from tests.support.sipp import free_udp_port

DRIVER = Path(__file__).with_name("box_driver.py")


class BoxProcess:
    """One run of the driver, its output in a file the test polls."""

    def __init__(self, workdir: Path, server: Receiver, calls: int, first: int, run: int) -> None:
        self.out = workdir / f"box-{run}.log"
        env = {**os.environ, "CALLBOX_DATA_DIR": str(workdir / "data"), "CALLBOX_HTTP_HOST": "127.0.0.1",
               "CALLBOX_HTTP_PORT": str(free_udp_port()), "CALLBOX_SIP_BIND": "127.0.0.1",
               "CALLBOX_CLOUD_URL": url_of(server), "CALLBOX_CLOUD_TOKEN": TOKEN,
               "CALLBOX_CLOUD_DEVICE_ID": DEVICE, "CALLBOX_CLOUD_BATCH_MAX": "20", "CALLBOX_CLOUD_POLL_MS": "30",
               "CALLBOX_CLOUD_BACKOFF_MIN_MS": "20", "CALLBOX_CLOUD_BACKOFF_MAX_S": "1"}
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, str(DRIVER), str(calls), str(first)], env=env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_line(self, line: str, within: float = 60.0) -> None:
        """Wait until the box printed `line`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if line in self.out.read_text().splitlines():
                return
            assert self.proc.poll() is None, f"the box exited:\n{self.out.read_text()[-3000:]}"
            time.sleep(0.02)
        raise AssertionError(f"the box never printed {line!r}:\n{self.out.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        """SIGTERM and wait for a clean stop."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.out.read_text()[-3000:]


def wait(condition: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_batch_and_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    posting = threading.Event()
    # The receiver holds each batch 0.3 s before it commits: time for the kill to land mid-batch.
    server = receiver(tmp_path / "cloud.db", faults=Faults(delay_s=0.3, on_request=posting.set))
    db = tmp_path / "data" / "callbox.sqlite3"
    try:
        # 1. Killed while the receiver has a batch in hand: it commits, the box never hears so.
        box = BoxProcess(tmp_path, server, calls=40, first=0, run=1)
        box.wait_line("CALL 10")
        wait(lambda: server.store.query("SELECT count(*) FROM batch")[0][0] >= 1, 30, "a first batch")
        posting.clear()
        assert posting.wait(30), "no batch was sent"
        box.kill()
        # 2. Restarted with more calls and killed again wherever it happens to be.
        box = BoxProcess(tmp_path, server, calls=30, first=40, run=2)
        box.wait_line("CALL 55")
        box.kill()
        # 3. Restarted without calls: it must send all that is left, then stop cleanly.
        box = BoxProcess(tmp_path, server, calls=0, first=0, run=3)
        box.wait_line("DONE")
        wait(lambda: outbox_empty(db) and server.store.query("SELECT count(*) FROM record")[0][0]
             >= sum(map(len, box_rows(db).values())), 60, "the box to deliver its backlog")
        box.terminate()
        result = assert_exactly_once(server.store, db)
        with closing(sqlite3.connect(db)) as conn:
            calls, open_calls = conn.execute(
                "SELECT count(*), sum(ended_at IS NULL) FROM call_record").fetchone()
        assert calls >= 20 and open_calls == 0  # calls cut by a kill were closed as INTERRUPTED, and sent
        # The batch in flight at the first kill came again after the restart and was dropped whole.
        assert result["duplicates_dropped"] >= 1
        assert server.store.query("SELECT count(*) FROM batch WHERE duplicates > 0 AND accepted = 0")[0][0] >= 1
    finally:
        server.stop()
