"""The carrier self-test with the real engine: SIPp carriers that pass a call on (3PCC twins), refuse or
stay silent; the matrix shows which pairs work, with timings, and failing pairs open incidents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.box import Box
from tests.support.sipp import Sipp, free_udp_port
from tests.trunks.peers import Api, boxes, carrier, office, operator

pytestmark = pytest.mark.sip


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Callable[..., Box]]:
    """Boxes whose HTTP port is free for TCP as well (this overrides the shared fixture)."""
    with boxes(tmp_path) as make:
        yield make


def trunk(name: str, host: str, number: str = "") -> str:
    """TOML of an IP trunk with our own number on it (called by the self-test, shown as caller ID)."""
    extra = f'test_number = "{number}"\ncaller_id = "{number}"\n' if number else ""
    return f'[[trunk]]\nname = "{name}"\nkind = "ip"\nhost = "{host}"\n{extra}'


def test_self_test_matrix_shows_which_carrier_pairs_work(box_factory: Callable[..., Box]) -> None:
    """X passes calls on to Y: X->Y passes; Y (silent to the box) and C (503) fail, each with its reason."""
    port_x, port_y, twin = free_udp_port(host="127.0.0.2"), free_udp_port(host="127.0.0.3"), free_udp_port()
    refuser = carrier("carrier_reject.xml", "127.0.0.4")
    with refuser, operator() as phone:
        box = box_factory(trunk("carrier-x", f"127.0.0.2:{port_x}", "4951110001")
                          + trunk("carrier-y", f"127.0.0.3:{port_y}", "4952220002")
                          + trunk("carrier-c", refuser.address) + office(phone) + "[selftest]\ntimeout_s = 8\n")
        y = Sipp("carrier_selftest_in.xml", box.sip, ip="127.0.0.3", local_port=port_y, calls=10, timeout=120,
                 extra_args=["-3pcc", f"127.0.0.1:{twin}"])
        x = Sipp("carrier_selftest_out.xml", ip="127.0.0.2", local_port=port_x, calls=100000, timeout=120,
                 extra_args=["-3pcc", f"127.0.0.1:{twin}"])
        with y, x:
            api = Api(box)
            status, started = api.call("POST", "/api/v1/trunks/selftest")
            assert status == 202 and started["running"], started
            matrix = box.wait_for(lambda: (m := api.get("/api/v1/trunks/selftest"))["pairs"] and not m["running"]
                                  and m, 60, "the self-test run")
            x.kill()
            y.kill()
            rx, ry = x.result(), y.result()
    pairs = {(p["from"], p["to"]): p for p in matrix["pairs"]}
    assert set(pairs) == {("carrier-x", "carrier-y"), ("carrier-y", "carrier-x"), ("carrier-c", "carrier-x"),
                          ("carrier-c", "carrier-y")}, matrix
    good = pairs[("carrier-x", "carrier-y")]
    assert good["ok"] and 0 < good["setup_ms"] < 2000 and good["number"] == "4952220002", good
    assert pairs[("carrier-y", "carrier-x")]["cause"] == "carrier-y: no provisional response within 2 s"
    assert pairs[("carrier-c", "carrier-x")]["cause"] == "carrier-c refused the call: 503 Service Unavailable"
    assert not any(p["ok"] for key, p in pairs.items() if key != ("carrier-x", "carrier-y"))
    # The test call came back through Y with the token and was refused, never answered; X's leg was cancelled.
    assert 486 in ry.response_codes("INVITE") and 200 not in ry.response_codes("INVITE"), ry.describe()
    assert "CANCEL" in rx.requests() and 200 not in rx.response_codes("INVITE", direction="sent")
    incidents = box.rows("SELECT * FROM incident WHERE kind = 'selftest' ORDER BY subject")
    assert [r["subject"] for r in incidents] == ["carrier-c -> carrier-x", "carrier-c -> carrier-y",
                                                 "carrier-y -> carrier-x"]
    assert box.calls() == [] or all(r["queue"] == "" for r in box.calls())  # no test call reached a queue
