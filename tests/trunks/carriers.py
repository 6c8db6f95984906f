"""Carriers played on the fake engine: each trunk answers, refuses, stays silent or loops calls back in."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

from appliance.sip.fake import FakeEngine, FakeLeg
from appliance.sip.sipmsg import TEST_HEADER
from tests.trunks.conftest import SOURCES


@dataclasses.dataclass
class Dialled:
    """One INVITE a carrier got, and what happened to it."""

    leg: FakeLeg
    at: float
    others_live: list[str]  # legs to the same number, through other trunks, not ended when this one began
    rang: bool = False


class Carriers:
    """Watches the fake engine for new outgoing legs and plays each trunk's behaviour on them.

    Behaviours: "answer" (100, 180, 200 after `ring_s`), "ring" (180, never answers), "silent",
    an int (100, then that final status), "loop:<trunk>" (100, 180, then the call comes back in on
    <trunk> carrying the self-test token), "plainloop:<trunk>" (the same without the token).
    """

    def __init__(self, engine: FakeEngine, ring_s: float = 0.05) -> None:
        self.engine, self.ring_s = engine, ring_s
        self.behaviour: dict[str, str | int] = {}
        self.dialled: list[Dialled] = []
        self._seen: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Carriers]:
        """Play the carriers while the block runs."""
        watcher = asyncio.create_task(self._watch())
        try:
            yield self
        finally:
            watcher.cancel()
            for task in self._tasks:
                task.cancel()

    def to(self, number: str) -> list[Dialled]:
        """The INVITEs for one number, in order."""
        return [d for d in self.dialled if number in d.leg.uri]

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            for leg in list(self.engine.legs.values()):
                if leg.direction == "out" and leg.trunk and leg.key not in self._seen:
                    self._seen.add(leg.key)
                    number = leg.uri.split("@")[0]
                    live = [d.leg.trunk or "" for d in self.dialled
                            if d.leg.uri.split("@")[0] == number and d.leg.state != "ended"]
                    self.dialled.append(Dialled(leg, loop.time(), live))
                    task = asyncio.create_task(self._play(self.dialled[-1], self.behaviour.get(leg.trunk, "answer")))
                    self._tasks.add(task)
            await asyncio.sleep(0.005)

    async def _play(self, dialled: Dialled, behaviour: str | int) -> None:
        leg, engine = dialled.leg, self.engine
        if behaviour == "silent" or leg.state == "ended":
            return
        engine.remote_progress(leg.key, 100)
        if isinstance(behaviour, int):
            await asyncio.sleep(0.01)
            if leg.state != "ended":
                engine.remote_end(leg.key, behaviour)
            return
        await asyncio.sleep(0.01)
        if leg.state == "ended":
            return
        engine.remote_progress(leg.key, 180)
        dialled.rang = True
        if str(behaviour).startswith(("loop:", "plainloop:")):  # plainloop: the carriers drop our header
            marker = dict(leg.headers).get(TEST_HEADER, "") if str(behaviour).startswith("loop:") else ""
            engine.incoming(leg.caller_id or "anonymous", leg.uri.split("@")[0].removeprefix("sip:"),
                            SOURCES[str(behaviour).split(":", 1)[1]], test_marker=marker)
            return
        if behaviour == "answer":
            await asyncio.sleep(self.ring_s)
            if leg.state != "ended":
                engine.remote_answer(leg.key)
