"""Queue manager logic against the in-memory engine: strategies, offers, abandon, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from appliance.acd import CallJournal, QueueManager
from appliance.config.load import apply
from appliance.incidents import HealthBoard, IncidentJournal
from appliance.recording import RecordingIndex
from appliance.sip.fake import FakeEngine
from appliance.storage import CallRecord, Database, QueueEvent
from appliance.trunks import TrunkService

CARRIER = "192.0.2.10"


class Harness:
    """A queue manager wired to a fake engine, with the daemon's one-at-a-time event pump."""

    def __init__(self, tmp_path: Any) -> None:
        self.engine = FakeEngine()
        self.journal = CallJournal()
        self.pump: asyncio.Queue[Any] = asyncio.Queue()
        trunks = TrunkService(self.engine, HealthBoard(), IncidentJournal())
        self.trunks = trunks
        self.acd = QueueManager(self.engine, trunks, self.journal,
                                RecordingIndex(tmp_path / "rec", self.journal.write), self.pump.put_nowait)

    async def start(self) -> None:
        self.journal.start()
        await self.engine.start(self.pump.put_nowait)
        await self.trunks.load()
        await self.acd.load()

    async def settle(self) -> None:
        """Run the pump until nothing is left to do."""
        for _ in range(200):
            await asyncio.sleep(0)
            while not self.pump.empty():
                item = self.pump.get_nowait()
                await (item() if callable(item) else self.acd.handle(item))
        await self.journal.flush()

    def ringing_targets(self) -> list[str]:
        return sorted(leg.uri for leg in self.engine.ringing())

    def leg_to(self, uri: str) -> str:
        return next(leg.key for leg in self.engine.ringing() if leg.uri == uri)

    async def events(self) -> list[tuple[str, str]]:
        return [(e.event, e.agent) for e in await QueueEvent.all().order_by("id")]


def config(strategy: str = "ringall", operators: int = 3, **queue: Any) -> dict[str, Any]:
    return {
        "trunk": [{"name": "carrier", "kind": "ip", "host": CARRIER}],
        "operator": [{"name": f"op{n}", "extension": str(n), "seats": [f"sip:{n}@192.0.2.50"]}
                     for n in range(101, 101 + operators)],
        "queue": [{"name": "sales", "strategy": strategy, "members": [str(n) for n in range(101, 101 + operators)],
                   "retry_s": 0, **queue}],
        "did": [{"number": "100", "queue": "sales"}],
    }


@pytest.fixture
async def make(db: Database, tmp_path: Any) -> AsyncIterator[Any]:
    harnesses: list[Harness] = []

    async def build(doc: dict[str, Any]) -> Harness:
        await apply(doc)
        harness = Harness(tmp_path)
        await harness.start()
        harnesses.append(harness)
        return harness

    yield build
    for harness in harnesses:
        await harness.journal.stop()


async def test_ringall_rings_everyone_and_the_first_answer_wins(make: Any) -> None:
    h = await make(config("ringall"))
    caller = h.engine.incoming("5551", "100", CARRIER)
    await h.settle()
    assert h.engine.legs[caller].hold_music
    assert h.ringing_targets() == ["sip:101@192.0.2.50", "sip:102@192.0.2.50", "sip:103@192.0.2.50"]
    winner = h.leg_to("sip:102@192.0.2.50")
    h.engine.remote_answer(winner)
    await h.settle()
    assert h.ringing_targets() == []  # the others were cancelled
    assert h.engine.legs[caller].bridged_with == winner
    assert await h.events() == [("ENTERQUEUE", ""), ("CONNECT", "op102")]
    record = await CallRecord.get(operator="op102")
    assert record.caller == "5551" and record.did == "100" and record.trunk == "carrier"


async def test_rrmemory_takes_turns_across_calls(make: Any) -> None:
    h = await make(config("rrmemory"))
    answered = []
    for n in range(4):
        caller = h.engine.incoming(f"555{n}", "100", CARRIER)
        await h.settle()
        (leg,) = h.engine.ringing()
        answered.append(leg.uri.split("@")[0])
        h.engine.remote_answer(leg.key)
        await h.settle()
        h.engine.remote_end(caller)  # the caller hangs up: the operator is free again
        await h.settle()
    assert answered == ["sip:101", "sip:102", "sip:103", "sip:101"]


async def test_an_operator_on_a_call_is_not_offered_another(make: Any) -> None:
    h = await make(config("ringall", operators=2))
    h.engine.incoming("1", "100", CARRIER)
    await h.settle()
    h.engine.remote_answer(h.leg_to("sip:101@192.0.2.50"))
    await h.settle()
    h.engine.incoming("2", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == ["sip:102@192.0.2.50"]


async def test_no_operator_free_keeps_the_caller_waiting_in_order(make: Any) -> None:
    h = await make(config("ringall", operators=1))
    first = h.engine.incoming("1", "100", CARRIER)
    await h.settle()
    op_leg = h.leg_to("sip:101@192.0.2.50")
    h.engine.remote_answer(op_leg)
    await h.settle()
    second = h.engine.incoming("2", "100", CARRIER)
    third = h.engine.incoming("3", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == []
    assert [e.caller for e in h.acd.waiting["sales"]] == ["2", "3"]
    h.engine.remote_end(op_leg)  # operator hangs up: COMPLETEAGENT, caller 1 is hung up too
    await h.settle()
    assert h.engine.legs[first].state == "ended"
    h.engine.remote_answer(h.leg_to("sip:101@192.0.2.50"))
    await h.settle()
    assert h.engine.legs[second].bridged_with is not None
    assert h.engine.legs[third].bridged_with is None


async def test_unknown_number_is_refused_with_404(make: Any) -> None:
    h = await make(config())
    caller = h.engine.incoming("1", "999", CARRIER)
    await h.settle()
    assert h.engine.legs[caller].state == "ended"
    assert await CallRecord.all().count() == 0


async def test_max_wait_ends_the_wait(make: Any) -> None:
    h = await make(config(max_wait_s=1, ring_timeout_s=30))
    caller = h.engine.incoming("1", "100", CARRIER)
    await h.settle()
    await asyncio.sleep(1.1)
    await h.settle()
    assert h.engine.legs[caller].state == "ended"
    assert h.ringing_targets() == []
    assert (await h.events())[-1] == ("EXITWITHTIMEOUT", "")
    assert (await CallRecord.get(caller="1")).disposition == "TIMEOUT"


async def test_operator_that_cannot_be_dialled_is_skipped(make: Any) -> None:
    h = await make(config("ringall", operators=2))
    h.engine.max_calls = 2  # the caller and one operator leg
    h.engine.incoming("1", "100", CARRIER)
    await h.settle()
    assert len(h.engine.ringing()) == 1


async def test_an_operator_on_an_outbound_call_gets_no_queued_call(make: Any) -> None:
    h = await make(config("ringall", operators=2))
    assert h.acd.reserve("101")
    assert not h.acd.reserve("101")  # already busy
    h.engine.incoming("1", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == ["sip:102@192.0.2.50"]
    h.engine.remote_answer(h.leg_to("sip:102@192.0.2.50"))
    await h.settle()
    h.engine.incoming("2", "100", CARRIER)
    await h.settle()
    assert h.ringing_targets() == []
    h.acd.release("101")
    await h.settle()
    assert h.ringing_targets() == ["sip:101@192.0.2.50"]
