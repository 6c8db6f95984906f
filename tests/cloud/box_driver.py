"""A box for the SIGKILL test: the real daemon (cloud sync included) on the in-memory SIP engine.

    python tests/cloud/box_driver.py CALLS FIRST     (settings from CALLBOX_* variables)

Loads one queue with one operator, starts the daemon, prints READY, places CALLS answered calls
numbered from FIRST (printing "CALL <n>" after each), prints DONE and runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from appliance.config.load import apply
from appliance.daemon import Daemon
from appliance.settings import Settings
from appliance.sip.fake import FakeEngine
from appliance.storage import Database

OFFICE = {
    "trunk": [{"name": "carrier", "kind": "ip", "host": "192.0.2.10"}],
    "operator": [{"name": "anna", "extension": "101", "seats": ["sip:101@192.0.2.50"]}],
    "queue": [{"name": "sales", "strategy": "ringall", "members": ["101"], "retry_s": 0}],
    "did": [{"number": "100", "queue": "sales"}],
}


async def until(check: object, within: float = 10.0) -> None:
    """Wait until `check()` is true (bounded)."""
    for _ in range(int(within / 0.005)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("the fake engine did not get there")


async def main(calls: int, first: int) -> None:
    """Run the daemon and place the calls."""
    settings = Settings.load()
    db = Database(settings.data.database_path)
    await db.open()
    await apply(OFFICE)
    await db.close()
    engine = FakeEngine(max_calls=100)
    daemon, stop = Daemon(settings, engine), asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    running = asyncio.create_task(daemon.run(stop))
    await until(lambda: daemon.started.is_set() or running.done(), 60)
    print("READY", flush=True)
    for n in range(first, first + calls):
        caller = engine.incoming(f"+7900{n:07d}", "100")
        await until(engine.ringing)
        engine.remote_answer(engine.ringing()[0].key)
        await asyncio.sleep(0.05)  # talk
        engine.remote_end(caller)
        await asyncio.sleep(0.02)
        print(f"CALL {n}", flush=True)
    print("DONE", flush=True)
    await running


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
