"""Per-call failover and click-to-call on the fake engine: which trunk is tried when, and what is passed back."""

from __future__ import annotations

import asyncio

import pytest

from appliance.errors import NotFoundError, UserError
from appliance.routing.policy import FailoverPolicy, parse_codes
from appliance.routing.routes import Route, RouteTable, validate_route
from appliance.storage import CallRecord
from tests.trunks.carriers import Carriers
from tests.trunks.conftest import SOURCES, Box, office, trunk


def fast(*trunks: str) -> list[dict[str, object]]:
    """One route through these trunks in this order, with a 0.3 s progress timer."""
    return [{"name": "all", "trunks": list(trunks), "progress_timeout_s": 0.3}]


def test_failover_codes_and_the_callee_s_own_answers() -> None:
    policy = FailoverPolicy()
    assert all(policy.fails_over(c) for c in (408, 500, 503, 580, 603, 604))
    assert not any(policy.fails_over(c) for c in (486, 600, 404, 484, 487, 480, 403, 200))
    anything = FailoverPolicy.parse("4xx,5xx,6xx")  # even when asked to, the callee's answers are final
    assert anything.fails_over(403) and not any(anything.fails_over(c) for c in (486, 600, 404, 484, 487))
    assert parse_codes("503, 408") == frozenset({503, 408})
    with pytest.raises(ValueError, match="7xx"):
        parse_codes("7xx")


def test_routes_match_in_order_and_rewrite_the_number() -> None:
    table = RouteTable((Route("intl", "00", strip=2, prepend="+"), Route("mobile", r"^\+?79\d{9}$"),
                        Route("rest", "")))
    intl = table.match("0049301234")
    assert intl is not None and intl.name == "intl" and intl.rewrite("0049301234") == "+49301234"
    assert table.match("+79161234567").name == "mobile"  # type: ignore[union-attr]
    assert table.match("4951234").name == "rest"  # type: ignore[union-attr]
    assert RouteTable((Route("only-mobile", "^79"),)).match("4951234") is None
    assert RouteTable().match("123").name == "default"  # type: ignore[union-attr]
    for bad, message in (({"name": "x", "pattern": "^(("}, "regular expression"), ({"name": "x", "strip": -1}, "strip"),
                         ({"name": "x", "failover_codes": "5yy"}, "5yy"), ({"name": "x", "color": 1}, "color")):
        with pytest.raises(ValueError, match=message):
            validate_route(bad)


async def dial(box: Box, number: str = "4951234567", **route: object) -> object:
    """Dial out through the routing service's dialer as an outbound call would."""
    table_route = box.routing.routes.match(number)
    assert table_route is not None
    wake = asyncio.Event()
    return await box.routing.dialer.dial(table_route, number, wake, cancelled=lambda: False)


async def test_503_and_silence_move_the_call_on_and_the_callee_rings_once(box: Box) -> None:
    quiet = {"probe_interval_s": 60}  # one probe at start, then only the calls tell the carrier's health
    await box.start(office(trunk("carrier-a"), trunk("carrier-b", **quiet), trunk("carrier-c"),
                           route=fast("carrier-a", "carrier-b", "carrier-c")))
    await box.until(lambda: box.status("carrier-b")["state"] == "up")
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour.update({"carrier-a": 503, "carrier-b": "silent"})
        started = asyncio.get_running_loop().time()
        result = await dial(box)
        elapsed = asyncio.get_running_loop().time() - started
    assert result.answered and result.trunk == "carrier-c"  # type: ignore[attr-defined]
    assert [(a.trunk, a.outcome, a.code) for a in result.attempts] == [  # type: ignore[attr-defined]
        ("carrier-a", "failover", 503), ("carrier-b", "timeout", 0), ("carrier-c", "answered", 200)]
    assert 0.3 <= elapsed < 1.5  # one progress timer for the silent carrier, no 32 s Timer B
    assert [d.others_live for d in carriers.to("4951234567")] == [[], [], []]  # each earlier leg ended first
    assert sum(d.rang for d in carriers.to("4951234567")) == 1
    a, b, c = (box.status(n) for n in ("carrier-a", "carrier-b", "carrier-c"))
    assert (a["calls_out"], a["failures"], a["failovers"], a["last_error"]) == (1, 1, 1, "503")
    assert (b["failures"], b["failovers"], b["state"]) == (1, 1, "degraded")  # the silence counted as a failed probe
    assert (c["calls_out"], c["answered"], c["channels"]) == (1, 1, 1)


@pytest.mark.parametrize("code", [486, 600, 404, 484, 487])
async def test_the_callee_s_answer_is_passed_back_without_failover(box: Box, code: int) -> None:
    await box.start(office(trunk("carrier-a"), trunk("carrier-b"), route=fast("carrier-a", "carrier-b")))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-a"] = code
        result = await dial(box)
    assert not result.answered and result.code == code  # type: ignore[attr-defined]
    assert [d.leg.trunk for d in carriers.dialled] == ["carrier-a"]
    assert box.status("carrier-a")["failures"] == 0


async def test_down_and_full_trunks_are_skipped_and_down_ones_are_the_last_resort(box: Box) -> None:
    await box.start(office(trunk("carrier-a", max_channels=1), trunk("carrier-b"), trunk("carrier-c"),
                           route=fast("carrier-a", "carrier-b", "carrier-c")))
    box.probes.answers[SOURCES["carrier-b"]] = False
    await box.until(lambda: box.status("carrier-b")["state"] == "down")
    inbound = box.engine.incoming("79001112233", "4951000", SOURCES["carrier-a"])  # takes carrier-a's one channel
    await box.until(lambda: box.status("carrier-a")["channels"] == 1)
    async with Carriers(box.engine).running() as carriers:
        result = await dial(box)
        assert [(a.trunk, a.outcome, a.detail) for a in result.attempts[:2]] == [  # type: ignore[attr-defined]
            ("carrier-a", "skipped", "at its channel limit (1)"), ("carrier-b", "skipped", "down")]
        assert result.trunk == "carrier-c"  # type: ignore[attr-defined]
        box.engine.remote_end(inbound)
        await box.until(lambda: box.status("carrier-a")["channels"] == 0)
        box.probes.answers[SOURCES["carrier-c"]] = False
        await box.until(lambda: box.status("carrier-c")["state"] == "down")
        box.probes.answers[SOURCES["carrier-a"]] = False
        await box.until(lambda: box.status("carrier-a")["state"] == "down")
        last_resort = await dial(box, "4957654321")
    assert last_resort.trunk == "carrier-a"  # type: ignore[attr-defined]
    assert [d.leg.trunk for d in carriers.to("4957654321")] == ["carrier-a"]


async def test_trunks_of_equal_priority_share_calls_by_weight(box: Box) -> None:
    await box.start(office(trunk("carrier-a", priority=5, weight=3), trunk("carrier-b", priority=5, weight=1),
                           trunk("carrier-c", priority=1)))
    box.trunks._random.seed(7)
    firsts = [box.trunks.candidates()[1][0].name for _ in range(400)]
    assert all(box.trunks.candidates()[0][0].name == "carrier-c" for _ in range(20))  # priority first
    assert 0.65 < firsts.count("carrier-a") / 400 < 0.85  # 3:1


async def test_operator_click_to_call_fails_over_and_bridges(box: Box) -> None:
    await box.start(office(trunk("carrier-a"), trunk("carrier-b"), route=fast("carrier-a", "carrier-b")))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-a"] = 503
        call = await box.routing.calls.originate("101", "4951234567")
        operator_leg = await box.until(lambda: next((leg for leg in box.engine.ringing() if leg.trunk is None), None))
        assert operator_leg.uri == "sip:101@lan" and operator_leg.caller_id == "4951234567"
        assert carriers.dialled == []  # nobody is dialled before the operator answers
        box.engine.remote_answer(operator_leg.key)
        await box.until(lambda: call.state == "connected")
        carrier_leg = carriers.dialled[-1].leg
        assert operator_leg.bridged_with == carrier_leg.key and carrier_leg.trunk == "carrier-b"
        box.engine.remote_end(operator_leg.key)
        await box.until(lambda: call.state == "ended")
        assert carrier_leg.state == "ended"
    view = call.view()
    assert (view["result"], view["trunk"]) == ("answered", "carrier-b")
    assert [a["outcome"] for a in view["attempts"]] == ["failover", "answered"]
    await box.journal.flush()
    record = await CallRecord.get(id=call.id)
    assert (record.direction, record.trunk, record.disposition, record.did) == ("out", "carrier-b", "ANSWERED",
                                                                                 "4951234567")


async def test_busy_is_passed_back_to_the_operator(box: Box) -> None:
    await box.start(office(trunk("carrier-a"), trunk("carrier-b"), route=fast("carrier-a", "carrier-b")))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-a"] = 486
        call = await box.routing.calls.originate("101", "4951234567")
        operator_leg = await box.until(lambda: next((leg for leg in box.engine.ringing() if leg.trunk is None), None))
        box.engine.remote_answer(operator_leg.key)
        await box.until(lambda: call.state == "ended")
    assert (call.result, call.code) == ("busy", 486)
    assert operator_leg.state == "ended" and operator_leg.hangup_cause == 486  # Reason: SIP;cause=486
    assert [d.leg.trunk for d in carriers.dialled] == ["carrier-a"]
    await box.journal.flush()
    assert (await CallRecord.get(id=call.id)).disposition == "BUSY"


async def test_operator_hanging_up_cancels_the_dial_out(box: Box) -> None:
    await box.start(office(trunk("carrier-a"), route=fast("carrier-a")))
    async with Carriers(box.engine).running() as carriers:
        carriers.behaviour["carrier-a"] = "ring"
        call = await box.routing.calls.originate("101", "4951234567")
        operator_leg = await box.until(lambda: next((leg for leg in box.engine.ringing() if leg.trunk is None), None))
        box.engine.remote_answer(operator_leg.key)
        await box.until(lambda: carriers.dialled and carriers.dialled[0].rang)
        box.engine.remote_end(operator_leg.key)
        await box.until(lambda: call.state == "ended")
    assert carriers.dialled[0].leg.state == "ended" and call.result == "cancelled"


async def test_originate_refuses_bad_requests(box: Box) -> None:
    await box.start(office(trunk("carrier-a"), route=[{"name": "local", "pattern": "495"}]))
    with pytest.raises(UserError, match="digits"):
        await box.routing.calls.originate("101", "49x")
    with pytest.raises(UserError, match="no outbound route"):
        await box.routing.calls.originate("101", "79161234567")
    with pytest.raises(NotFoundError):
        await box.routing.calls.originate("999", "4951234567")
