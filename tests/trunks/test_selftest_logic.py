"""The carrier self-test on the fake engine: the matrix, recognising arrivals, incidents per failing pair."""

from __future__ import annotations

import asyncio

import pytest

from appliance.errors import UserError
from appliance.routing.selftest import same_number
from appliance.sip.abc import IncomingCall
from appliance.sip.sipmsg import TEST_HEADER
from tests.trunks.carriers import Carriers
from tests.trunks.conftest import Box, office, trunk


def test_numbers_match_across_national_and_international_forms() -> None:
    assert same_number("+74951234567", "84951234567") and same_number("4951234567", "74951234567")
    assert same_number("101", "101") and not same_number("1234567", "7654321") and not same_number("101", "2101")


async def test_matrix_passes_where_calls_come_back_and_names_the_failure_elsewhere(box: Box) -> None:
    await box.start(office(trunk("carrier-a", caller_id="4951110001", test_number="+74951110001"),
                           trunk("carrier-b", caller_id="4952220002", test_number="84952220002"),
                           trunk("carrier-c"), selftest={"timeout_s": 3}))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour.update({"carrier-a": "loop:carrier-b", "carrier-b": "loop:carrier-a", "carrier-c": 503})
        results = await box.routing.selftest.run()
    matrix = {(r.from_trunk, r.to_trunk): r for r in results}
    assert set(matrix) == {("carrier-a", "carrier-b"), ("carrier-b", "carrier-a"), ("carrier-c", "carrier-a"),
                           ("carrier-c", "carrier-b")}  # carrier-c has no number of its own to call
    assert matrix[("carrier-a", "carrier-b")].ok and matrix[("carrier-b", "carrier-a")].ok
    assert 0 <= matrix[("carrier-a", "carrier-b")].setup_ms < 1000  # type: ignore[operator]
    refused = matrix[("carrier-c", "carrier-a")]
    assert not refused.ok and refused.cause == "carrier-c refused the call: 503"
    # Each test call went out through one carrier only, with its token, and was cancelled, never answered.
    out = [d.leg for d in carriers.dialled]
    assert [leg.trunk for leg in out] == ["carrier-a", "carrier-b", "carrier-c", "carrier-c"]
    assert all(TEST_HEADER in dict(leg.headers) for leg in out) and all(leg.state == "ended" for leg in out)
    arrivals = [leg for leg in box.engine.legs.values() if leg.direction == "in"]
    assert len(arrivals) == 2 and all(leg.state == "ended" for leg in arrivals)
    assert not [e for e in box.unclaimed if isinstance(e, IncomingCall)]  # the queues never saw a test call
    view = await box.routing.selftest.matrix()
    assert len(view["pairs"]) == 4 and sum(p["ok"] for p in view["pairs"]) == 2
    incidents = await box.until(lambda: box.incidents_of("selftest"))
    assert sorted(i.subject for i in incidents) == ["carrier-c -> carrier-a", "carrier-c -> carrier-b"]


async def test_a_call_arriving_on_the_wrong_trunk_or_not_at_all_fails(box: Box) -> None:
    await box.start(office(trunk("carrier-a", test_number="4951110001"), trunk("carrier-b", test_number="4952220002"),
                           trunk("carrier-c"), selftest={"timeout_s": 3}))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour.update({"carrier-a": "loop:carrier-c", "carrier-b": "silent", "carrier-c": "ring"})
        results = {(r.from_trunk, r.to_trunk): r for r in await box.routing.selftest.run()}
    assert results[("carrier-a", "carrier-b")].cause == "arrived on carrier-c instead of carrier-b"
    assert "no provisional response" in results[("carrier-b", "carrier-a")].cause
    assert "did not arrive" in results[("carrier-c", "carrier-a")].cause
    assert not any(r.ok for r in results.values())


async def test_without_numbers_to_call_the_self_test_says_what_is_missing(box: Box) -> None:
    await box.start(office(trunk("carrier-a"), trunk("carrier-b")))
    with pytest.raises(UserError, match="test number"):
        await box.routing.selftest.start_run()


async def test_without_the_token_a_call_is_recognised_by_number_and_caller_id(box: Box) -> None:
    await box.start(office(trunk("carrier-a", caller_id="+74951110001", test_number="84951110001"),
                           trunk("carrier-b", caller_id="84952220002", test_number="+74952220002"),
                           selftest={"timeout_s": 3}))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour.update({"carrier-a": "plainloop:carrier-b", "carrier-b": "plainloop:carrier-a"})
        results = await box.routing.selftest.run()
    assert all(r.ok for r in results) and len(results) == 2
    # A stranger calling that number meanwhile is not taken for a test call: it goes to the queues.
    stranger = box.engine.incoming("79990000000", "84952220002", "192.0.2.2")
    await box.until(lambda: any(getattr(e, "key", "") == stranger for e in box.unclaimed))


async def test_the_schedule_runs_the_self_test_by_itself(box: Box) -> None:
    await box.start(office(trunk("carrier-a", test_number="4951110001"), trunk("carrier-b"),
                           selftest={"interval_min": 360, "timeout_s": 3}))
    assert box.routing.selftest._schedule is not None  # started from the plan: every 6 hours
    box.routing.selftest._schedule.cancel()
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-b"] = "loop:carrier-a"
        schedule = asyncio.create_task(box.routing.selftest._every(0.05))  # the same loop, in seconds
        try:
            matrix = await box.until(lambda: _ran(box), timeout=5)
        finally:
            schedule.cancel()
    assert [(p["from"], p["to"], p["ok"]) for p in matrix["pairs"]] == [("carrier-b", "carrier-a", True)]


async def _ran(box: Box) -> dict[str, object] | None:
    matrix = await box.routing.selftest.matrix()
    return matrix if matrix["pairs"] and not matrix["running"] else None
