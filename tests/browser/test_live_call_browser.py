"""A SIPp call seen live on the dashboard (server-sent events), then its recording played in the browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.panel import provision, sign_in
from tests.e2e.box import Box, ip_trunk, operators, queue
from tests.support.rtp import RtpSink, write_tone_pcap
from tests.support.sipp import Sipp

pytestmark = [pytest.mark.browser, pytest.mark.sip]
CALLER = "79001234567"


def test_call_appears_live_and_its_recording_plays(page: Any, box_factory: Callable[..., Box],
                                                   shot: Callable[..., Any], tmp_path: Path) -> None:
    """The call shows up on the open dashboard without a reload, leaves it, and its recording plays."""
    tone = write_tone_pcap(tmp_path / "tone.pcap", 1000, 8.0)
    with RtpSink(reply_tone_hz=440) as sink, \
            Sipp("operator_answer.xml", ip="127.0.0.1", keys={"rtp_port": sink.port, "ring_ms": 300},
                 timeout=40) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue())
        provision(box)
        sign_in(page, box)
        page.wait_for_selector("h1:text('Dashboard')")
        page.evaluate("window.__notReloaded = true")
        page.wait_for_selector("#active-calls >> text=No call right now")
        call = Sipp("carrier_call.xml", box.sip, ip="127.0.0.2", service="4951000", timeout=40,
                    keys={"caller": CALLER, "pcap": tone, "hold_ms": 6000})
        with call.start():
            page.wait_for_selector(f"#active-calls .active-call >> text={CALLER}", timeout=10000)
            page.wait_for_selector("#operators .badge.on_call", timeout=10000)
            assert page.inner_text("#connected-calls") == "1"
            shot(page, "1-call-live")
            assert call.wait_sync().ok
        page.wait_for_selector("#active-calls >> text=No call right now", timeout=15000)
        assert page.evaluate("window.__notReloaded") is True  # every change came over the event stream
    recording = box.wait_for(lambda: box.rows("SELECT * FROM recording"), what="the recording row")[0]
    page.goto(f"http://127.0.0.1:{box.http_port}/recordings?number={CALLER[-4:]}")
    row = page.wait_for_selector(f"tr[data-recording='{recording['id']}']")
    assert CALLER in row.inner_text()
    page.eval_on_selector(f"tr[data-recording='{recording['id']}'] audio", "a => a.play()")
    page.wait_for_function(
        f"() => {{ const a = document.querySelector(\"tr[data-recording='{recording['id']}'] audio\");"
        " return a.currentTime > 0.5 && !a.error; }", timeout=15000)
    shot(page, "2-recording-playing")
    page.wait_for_function(f"() => document.querySelector(\"tr[data-recording='{recording['id']}'] audio\").ended",
                           timeout=20000)
    played = page.eval_on_selector(f"tr[data-recording='{recording['id']}'] audio", "a => a.currentTime")
    assert abs(played - recording["duration_s"]) < 0.5  # the whole recording played
