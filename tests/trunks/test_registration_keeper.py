"""Registration that never gives up: backoff doubling from the first retry up to a short cap, for ever."""

from __future__ import annotations

import asyncio

from appliance.errors import SipError
from appliance.sip.fake import FakeEngine
from appliance.trunks.registration import RegistrationKeeper


async def test_backoff_doubles_to_the_cap_and_a_success_starts_it_over() -> None:
    keeper = RegistrationKeeper(FakeEngine())
    assert [keeper.failed("b") for _ in range(6)] == [5, 10, 20, 30, 30, 30]
    keeper.succeeded("b")
    assert keeper.next_in("b") is None and keeper.failed("b") == 5
    keeper.stop()


async def test_each_failure_leads_to_a_register_and_a_refused_send_is_tried_again() -> None:
    class Busy(FakeEngine):
        calls = 0

        async def register(self, trunk: str) -> None:
            Busy.calls += 1
            if Busy.calls == 1:
                raise SipError("PJSIP_EBUSY: another REGISTER is in flight")
            await super().register(trunk)

    engine = Busy()
    keeper = RegistrationKeeper(engine, first_s=0.05, cap_s=0.1)
    keeper.failed("b")
    for _ in range(100):
        if engine.registers:
            break
        await asyncio.sleep(0.01)
    assert engine.registers == ["b"] and Busy.calls == 2  # the refused send was retried by itself
    keeper.forget("b")
    keeper.failed("b")
    keeper.forget("b")
    await asyncio.sleep(0.2)
    assert engine.registers == ["b"]  # a forgotten trunk is not registered any more
    keeper.stop()
