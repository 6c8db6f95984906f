"""Carrier health with the real engine: a carrier killed mid-run and brought back, a silent carrier, a
registrar that restarts; transitions and incidents within the promised times, calls always through."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.box import Box
from tests.trunks.peers import Api, at, boxes, carrier, invites, ip_trunk, office, operator, route

pytestmark = pytest.mark.sip
PROMISE_S = 10.0  # a dead carrier is marked down (and a returning one up) within this


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """Boxes whose HTTP port is free for TCP as well (this overrides the shared fixture)."""
    with boxes(tmp_path) as make:
        yield make


def started_at(box: Box, kind: str, subject: str) -> tuple[float, float | None] | None:
    """(start, end) of the latest incident of a subject, as epoch seconds."""
    rows = box.rows("SELECT * FROM incident WHERE kind = ? AND subject = ? ORDER BY id DESC", kind, subject)
    if not rows:
        return None
    end = rows[0]["ended_at"]
    return (datetime.fromisoformat(rows[0]["started_at"]).timestamp(),
            datetime.fromisoformat(end).timestamp() if end else None)


def test_a_carrier_killed_mid_run_goes_down_calls_move_and_it_comes_back(box_factory: Callable[..., Box]) -> None:
    """Every call of the run is answered by a working carrier; down and up happen within the promise."""
    a, b = carrier("carrier_uas.xml", "127.0.0.2"), carrier("carrier_uas.xml", "127.0.0.3")
    with a, b, operator(calls=4, hangup_ms=5000) as phone:
        box = box_factory(ip_trunk("carrier-a", a) + ip_trunk("carrier-b", b) + route("all", ["carrier-a", "carrier-b"])
                          + office(phone))
        api = Api(box)
        box.wait_for(lambda: {api.trunk(n)["state"] for n in ("carrier-a", "carrier-b")} == {"up"}, 15, "trunks up")
        views = [api.ended(api.place("4957000001"))]
        a.kill()
        killed = time.time()
        views.append(api.ended(api.place("4957000002")))  # not down yet: 2 s of silence, then carrier-b
        box.wait_for(lambda: api.trunk("carrier-a")["state"] == "down", PROMISE_S + 5, "carrier-a down")
        incident = box.wait_for(lambda: started_at(box, "trunk", "carrier-a"), 5, "the incident")
        views.append(api.ended(api.place("4957000003")))  # down: skipped at once
        a2 = carrier("carrier_uas.xml", "127.0.0.2", port=a.local_port)
        with a2:
            back = time.time()
            box.wait_for(lambda: api.trunk("carrier-a")["state"] == "up", PROMISE_S + 5, "carrier-a up again")
            recovered = time.time()
            views.append(api.ended(api.place("4957000004")))
            closed = box.wait_for(lambda: (s := started_at(box, "trunk", "carrier-a")) and s[1], 5, "incident closed")
            a2.kill()
            b.kill()
            ra2, rb = a2.result(), b.result()
    assert [v["result"] for v in views] == ["answered"] * 4, views
    assert [v["trunk"] for v in views] == ["carrier-a", "carrier-b", "carrier-b", "carrier-a"], views
    assert [x["outcome"] for x in views[1]["attempts"]] == ["timeout", "answered"]
    skipped = views[2]["attempts"][0]
    assert (skipped["trunk"], skipped["outcome"], skipped["detail"]) == ("carrier-a", "skipped", "down")
    assert 0 <= incident[0] - killed <= PROMISE_S, incident[0] - killed
    assert recovered - back <= PROMISE_S and closed - back <= PROMISE_S + 1
    row = box.rows("SELECT * FROM incident WHERE subject = 'carrier-a'")[0]
    assert row["action"].startswith("outbound calls moved to carrier-b") and "use it again" in row["action"]
    assert [m.first_line.split()[1].split("@")[0] for m in invites(rb)] == ["sip:4957000002", "sip:4957000003"]
    # PJSIP keeps retransmitting the INVITE it gave up on (no provisional: a CANCEL must wait), for up to
    # 32 s; the restarted carrier may still get it. The CANCEL then follows its first response at once,
    # so the stale call never gets as far as an answer (and, with a real carrier, not to the callee).
    fresh, *stale = sorted(invites(ra2), key=lambda m: "4957000004" not in m.first_line)
    assert "4957000004" in fresh.first_line and all("4957000002" in m.first_line for m in stale)
    for invite in stale:
        call = [m for m in ra2.messages if m.header("Call-ID") == invite.header("Call-ID")]
        cancel = next(m for m in call if m.method == "CANCEL" and m.status is None)
        assert at(cancel) - at(invite) < 0.5 and 200 not in [m.status for m in call if m.method == "INVITE"]


def test_a_silent_carrier_is_marked_down_by_probe_timeouts(box_factory: Callable[..., Box]) -> None:
    """A carrier that stops answering (no ICMP, nothing) is down within 10 s, up again when it answers."""
    a, b = carrier("carrier_uas.xml", "127.0.0.2"), carrier("carrier_uas.xml", "127.0.0.3")
    with a, b, operator() as phone:
        box = box_factory(ip_trunk("carrier-a", a) + ip_trunk("carrier-b", b) + office(phone))
        api = Api(box)
        box.wait_for(lambda: api.trunk("carrier-a")["state"] == "up", 15, "carrier-a up")
        assert a.proc is not None
        a.proc.send_signal(signal.SIGSTOP)  # a blackhole: packets pile up unread
        frozen = time.time()
        try:
            box.wait_for(lambda: api.trunk("carrier-a")["state"] == "down", PROMISE_S + 5, "carrier-a down")
            down = time.time()
            status = api.trunk("carrier-a")
        finally:
            a.proc.send_signal(signal.SIGCONT)
        box.wait_for(lambda: api.trunk("carrier-a")["state"] == "up", PROMISE_S + 5, "carrier-a up again")
    assert down - frozen <= PROMISE_S, down - frozen
    assert "OPTIONS timeout" in status["cause"], status
    assert api.trunk("carrier-b")["state"] == "up"


def test_registration_recovers_after_the_registrar_restarts(box_factory: Callable[..., Box]) -> None:
    """The registrar dies (down, incident) and comes back: the box registers again at once, not after 300 s."""
    keys = {"auth_user": "callbox", "auth_pass": "s3cret!", "expires": 300}
    registrar = carrier("carrier_registrar.xml", "127.0.0.2", **keys)
    with registrar, operator() as phone:
        box = box_factory(f'[[trunk]]\nname = "carrier-reg"\nkind = "registration"\nhost = "{registrar.address}"\n'
                          'username = "callbox"\npassword = "s3cret!"\nrealm = "carrier.test"\n' + office(phone))
        api = Api(box)
        box.wait_for(lambda: api.trunk("carrier-reg")["registered"] and api.trunk("carrier-reg")["state"] == "up",
                     15, "registered")
        registrar.kill()
        box.wait_for(lambda: api.trunk("carrier-reg")["state"] == "down", PROMISE_S + 5, "the registrar down")
        again = carrier("carrier_registrar.xml", "127.0.0.2", port=registrar.local_port, **keys)
        with again:
            back = time.time()
            box.wait_for(lambda: any(m.status == 200 and m.method == "REGISTER" for m in again.result().sent),
                         PROMISE_S + 5, "a REGISTER accepted by the restarted registrar")
            registered = time.time()
            status = box.wait_for(lambda: (s := api.trunk("carrier-reg"))["state"] == "up" and s, 5, "up")
    assert registered - back <= PROMISE_S, registered - back
    assert status["registered"] is True and status["last_code"] == 200
    incident = box.rows("SELECT * FROM incident WHERE subject = 'carrier-reg'")[0]
    assert incident["ended_at"] is not None and "unreachable" in incident["cause"]
