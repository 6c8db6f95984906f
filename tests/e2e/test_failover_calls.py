"""Per-call carrier failover with the real engine: SIPp carriers that answer, refuse (503/486), stay silent
or answer too late, and an operator placing calls through /api/v1/calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.box import Box
from tests.support.sipp import SippResult
from tests.trunks.peers import Api, at, boxes, carrier, invites, ip_trunk, office, operator, route, sent_codes

pytestmark = pytest.mark.sip
NUMBER = "4957000001"


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """Boxes whose HTTP port is free for TCP as well (this overrides the shared fixture)."""
    with boxes(tmp_path) as make:
        yield make


def test_503_and_a_silent_carrier_fail_over_and_the_callee_rings_once(box_factory: Callable[..., Box]) -> None:
    """503 from B, silence from C (2 s timer, not 32 s), A answers: one ringing, through A only."""
    a, b, c = (carrier("carrier_uas.xml", "127.0.0.2"), carrier("carrier_reject.xml", "127.0.0.3"),
               carrier("carrier_silent.xml", "127.0.0.4"))
    with a, b, c, operator(hangup_ms=5000) as phone:  # longer than the dial-out
        box = box_factory(ip_trunk("carrier-a", a) + ip_trunk("carrier-b", b) + ip_trunk("carrier-c", c,
                                                                                         probe_interval_s=0)
                          + route("all", ["carrier-b", "carrier-c", "carrier-a"]) + office(phone))
        api = Api(box)
        view = api.ended(api.place(NUMBER))
        assert phone.wait_sync(10).ok
        for peer in (a, b, c):
            peer.kill()
        ra, rb, rc = a.result(), b.result(), c.result()
    assert (view["result"], view["trunk"]) == ("answered", "carrier-a"), view
    assert [(x["trunk"], x["outcome"], x["code"]) for x in view["attempts"]] == [
        ("carrier-b", "failover", 503), ("carrier-c", "timeout", 0), ("carrier-a", "answered", 200)]
    (inv_b,), (inv_c,), (inv_a,) = invites(rb), invites(rc), invites(ra)
    assert all(NUMBER in m.first_line for m in (inv_a, inv_b, inv_c))
    assert 1.9 <= at(inv_a) - at(inv_c) <= 3.0  # the progress timer, with a margin for a loaded machine
    assert sent_codes(rc, inv_c.header("Call-ID") or "") == []  # silent: the box could not CANCEL either
    assert 180 in sent_codes(ra, inv_a.header("Call-ID") or "")  # the callee rang through A...
    assert 180 not in sent_codes(rb, inv_b.header("Call-ID") or "")  # ...and through nobody else
    assert "BYE" in [m.method for m in ra.received if m.status is None]  # hung up when the operator was done
    record = box.wait_for(lambda: [r for r in box.calls() if r["direction"] == "out" and r["disposition"]],
                          what="the call record")[0]
    assert (record["trunk"], record["did"], record["disposition"]) == ("carrier-a", NUMBER, "ANSWERED")
    stats = {name: api.trunk(name) for name in ("carrier-a", "carrier-b", "carrier-c")}
    assert (stats["carrier-b"]["failures"], stats["carrier-b"]["failovers"]) == (1, 1)
    assert (stats["carrier-c"]["failures"], stats["carrier-c"]["failovers"]) == (1, 1)
    assert (stats["carrier-a"]["answered"], stats["carrier-a"]["failures"]) == (1, 0)
    failovers = box.rows("SELECT data1, data2 FROM queue_event WHERE event = 'FAILOVER' ORDER BY id")
    assert len(failovers) == 2 and failovers[-1]["data2"] == "carrier-a"  # for the carrier reports


def test_busy_is_passed_back_to_the_operator_without_failover(box_factory: Callable[..., Box]) -> None:
    """486 from the first carrier ends the call: the operator's BYE carries it, the second carrier never hears."""
    busy, spare = carrier("carrier_reject.xml", "127.0.0.2", code=486), \
        carrier("carrier_uas.xml", "127.0.0.3")
    with busy, spare, operator(hangup_ms=20000) as phone:
        box = box_factory(ip_trunk("busy", busy, codecs="PCMU") + ip_trunk("spare", spare)
                          + route("all", ["busy", "spare"]) + office(phone))
        api = Api(box)
        view = api.ended(api.place(NUMBER))
        phone_result = phone.wait_sync(10)
        for peer in (busy, spare):
            peer.kill()
        rb, rs = busy.result(), spare.result()
    assert (view["result"], view["code"]) == ("busy", 486), view
    assert [x["trunk"] for x in view["attempts"]] == ["busy"]
    assert invites(rs) == []
    bye = next(m for m in phone_result.received if m.method == "BYE" and m.status is None)
    assert "cause=486" in (bye.header("Reason") or ""), phone_result.describe()
    # The trunk's own codec list is what it was offered: PCMU only (plus DTMF events).
    (offer,) = invites(rb)
    lines = offer.body.splitlines()
    payloads = next(line for line in lines if line.startswith("m=audio")).split()[3:]
    names = {line.split()[0].split(":")[1]: line.split()[1].split("/")[0] for line in lines
             if line.startswith("a=rtpmap:")}
    assert payloads[0] == "0" and all(names.get(pt) == "telephone-event" for pt in payloads[1:]), offer.body
    assert box.wait_for(lambda: [r for r in box.calls() if r["disposition"]], what="record")[0]["disposition"] == "BUSY"


def test_a_late_answer_after_the_timer_is_acked_and_hung_up(box_factory: Callable[..., Box]) -> None:
    """The first carrier answers 2.6 s late, after the call moved on: the box ACKs and BYEs that 200."""
    late, good = carrier("carrier_late_answer.xml", "127.0.0.2"), carrier("carrier_uas.xml", "127.0.0.3")
    with late, good, operator(hangup_ms=4000) as phone:
        box = box_factory(ip_trunk("late", late) + ip_trunk("good", good) + route("all", ["late", "good"])
                          + office(phone))
        api = Api(box)
        call_id = api.place(NUMBER)
        box.wait_for(lambda: api.get(f"/api/v1/calls/{call_id}")["state"] == "connected", 15, "the call to connect")
        box.wait_for(lambda: "BYE" in _requests(late.result()), 10, "the late 200 to be hung up")
        view = api.ended(call_id)
        for peer in (late, good):
            peer.kill()
        late_result = late.result()
    assert view["trunk"] == "good" and [x["outcome"] for x in view["attempts"]] == ["timeout", "answered"]
    (invite,) = invites(late_result)
    requests = _requests(late_result, invite.header("Call-ID") or "")
    assert requests.index("ACK") < requests.index("BYE"), late_result.describe()
    assert sent_codes(late_result, invite.header("Call-ID") or "")[-1] == 200  # the BYE was answered


def _requests(result: SippResult, call_id: str | None = None) -> list[str]:
    """Methods of the requests a carrier received (of one call)."""
    return [m.method for m in result.received if m.status is None
            and (call_id is None or m.header("Call-ID") == call_id)]
