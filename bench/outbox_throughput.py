"""Outbox throughput: what the triggers cost the call journal, and how fast records reach a cloud.

    python bench/outbox_throughput.py                 # 25,000 calls = 100,000 records
    python bench/outbox_throughput.py --calls 5000 --batch 100

1. The call journal writes N calls (3 events and a call record each) with the sync triggers
   installed and without: the difference is what the outbox costs the write path.
2. The collector alone turns the noted changes into outbox records (records/s).
3. The reference receiver runs as its own process on 127.0.0.1 (as a vendor would run it); the
   sync service delivers the whole outbox in batches (records/s end to end, acknowledged).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from appliance.acd import CallJournal  # noqa: E402
from appliance.cloud import CloudSync  # noqa: E402
from appliance.cloud.outbox import Outbox  # noqa: E402
from appliance.incidents import HealthBoard, IncidentJournal  # noqa: E402
from appliance.settings import CloudSettings  # noqa: E402
from appliance.storage import Database  # noqa: E402

TOKEN = "bench-token"


async def journal_run(path: Path, calls: int, triggers: bool) -> float:
    """Write the calls through the call journal; returns seconds (database left open)."""
    await Outbox(10**9).prepare(enabled=triggers)
    journal = CallJournal()
    journal.start()
    start = time.perf_counter()
    for n in range(calls):
        call, now = f"call-{n}", datetime.now(UTC)
        journal.call_started(call, caller=f"+7900{n:07d}", trunk="carrier", queue="sales", started_at=now)
        journal.event(call, "sales", "ENTERQUEUE", "", "", f"+7900{n:07d}", 1)
        journal.event(call, "sales", "CONNECT", "anna", 2, "leg", 1500, 1)
        journal.event(call, "sales", "COMPLETECALLER", "anna", 2, 30, 1)
        journal.call_updated(call, ended_at=now, disposition="ANSWERED", talk_s=30.0)
        if n % 500 == 0:
            await journal.flush()
    await journal.flush()
    elapsed = time.perf_counter() - start
    await journal.stop()
    return elapsed


def free_port() -> int:
    """A TCP port free on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def deliver(path: Path, workdir: Path, batch: int) -> tuple[float, int]:
    """Run the sync service against a receiver process until the outbox is empty."""
    port, token_file = free_port(), workdir / "token"
    token_file.write_text(TOKEN)
    command = [sys.executable, str(REPO / "appliance" / "cloud" / "receiver.py"), "--db",
               str(workdir / "received.sqlite3"), "--port", str(port), "--token-file", str(token_file)]
    receiver = subprocess.Popen(command)  # noqa: ASYNC220 - a bench, started once
    try:
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        settings = CloudSettings(url=f"http://127.0.0.1:{port}/v1/batches", token=TOKEN, device_id="bench",
                                 batch_max=batch, outbox_max=10**9, poll_ms=50, snapshot_s=0)
        sync = CloudSync(settings, workdir)
        await sync.prepare()
        start = time.perf_counter()
        sync.start(HealthBoard(), IncidentJournal())
        while (await sync.status())["backlog"]:  # noqa: ASYNC110 - polling is what is measured
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        await sync.stop()
    finally:
        receiver.terminate()
        receiver.wait(10)
    with sqlite3.connect(workdir / "received.sqlite3") as conn:
        received = int(conn.execute("SELECT count(*) FROM record").fetchone()[0])
    return elapsed, received


async def main(calls: int, batch: int) -> None:
    """Run the three measurements."""
    records = calls * 4
    with tempfile.TemporaryDirectory(prefix="callbox-outbox-") as tmp:
        work = Path(tmp)
        timings: dict[bool, list[float]] = {False: [], True: []}
        for run, triggers in enumerate((False, True, False, True)):  # alternated: the machine may be shared
            db = Database(work / f"journal-{run}.sqlite3")
            await db.open()
            timings[triggers].append(await journal_run(db.path, calls, triggers))
            if run < 3:
                await db.close()
        for triggers, seconds_each in timings.items():
            seconds = min(seconds_each)
            print(f"journal, triggers {'on ' if triggers else 'off'}: {records} records in {seconds:6.2f} s "
                  f"= {records / seconds:8.0f} records/s ({1e6 * seconds / records:5.1f} us each, best of 2)")
        start = time.perf_counter()
        outbox, moved = Outbox(10**9), 0
        await outbox.prepare(enabled=True)
        while added := (await outbox.collect(chunk=500))[0]:
            moved += added
        seconds = time.perf_counter() - start
        print(f"collector: {moved} records into the outbox in {seconds:6.2f} s = {moved / seconds:8.0f} records/s")
        seconds, received = await deliver(db.path, work, batch)
        print(f"delivery (batch {batch}, receiver process on 127.0.0.1): {received} records acknowledged in "
              f"{seconds:6.2f} s = {received / seconds:8.0f} records/s")
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=25_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.batch))
