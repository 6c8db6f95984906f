"""A carrier's call through a queue to an operator, against real SIPp peers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.box import Box, ip_trunk, operators, queue
from tests.recording.audio import decode_opus
from tests.support.rtp import RtpSink, dominant_frequency, read_wav, rms_dbfs, tone_power
from tests.support.sipp import Sipp, free_udp_port

pytestmark = pytest.mark.sip
CARRIER_IP = "127.0.0.2"


def carrier(box: Box, tones: dict[int, Path], hold_ms: int, caller: str = "79001234567",
            scenario: str = "carrier_call.xml", **keys: object) -> Sipp:
    """The carrier calling the box's DID 4951000 from its own address."""
    all_keys: dict[str, object] = {"caller": caller, **keys}
    if scenario == "carrier_call.xml":
        all_keys.update(pcap=tones[1000], hold_ms=hold_ms)
    return Sipp(scenario, box.sip, ip=CARRIER_IP, service="4951000", keys=all_keys, timeout=30)


def operator(sink: RtpSink | None = None, scenario: str = "operator_answer.xml", calls: int = 1,
             **keys: object) -> Sipp:
    """An operator's phone on 127.0.0.1."""
    if scenario == "operator_answer.xml":
        keys = {"rtp_port": sink.port if sink else free_udp_port(), **keys}
    return Sipp(scenario, ip="127.0.0.1", keys=keys, calls=calls, timeout=30)


def test_call_is_queued_bridged_recorded_and_logged(box_factory: Callable[..., Box], tones: dict[int, Path],
                                                    tmp_path: Path) -> None:
    """Audio flows both ways through the bridge, each side is on its own channel, the records tell the story."""
    with RtpSink(reply_tone_hz=440) as sink, operator(sink, ring_ms=500) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue())
        with carrier(box, tones, hold_ms=4000).start() as call:
            result = call.wait_sync()
        assert result.ok, result.describe()
        assert phone.wait_sync(10).ok
        heard = sink.samples()
    # The carrier's 1 kHz tone reached the operator's phone through the bridge.
    assert len(heard) > 8000 * 2
    assert dominant_frequency(heard, [440, 1000]) == 1000
    assert tone_power(heard, 1000) > 0.5
    record = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]], what="the call record")[0]
    assert record["disposition"] == "ANSWERED"
    assert record["caller"] == "79001234567"
    assert record["trunk"] == "carrier"
    assert record["queue"] == "support"
    assert record["operator"] == "op101"
    assert 3.0 <= record["talk_s"] <= 4.5  # 4 s after the box answered, minus 0.5 s of ringing
    assert box.events(record["id"]) == [("ENTERQUEUE", ""), ("CONNECT", "op101"), ("COMPLETECALLER", "op101")]
    recording = box.wait_for(lambda: box.rows("SELECT * FROM recording WHERE state = 'ready'"),
                             timeout=30, what="the encoded recording")[0]
    assert recording["call_id"] == record["id"]
    assert (recording["format"], recording["channels"]) == ("opus", 2)
    path = Path(recording["path"])
    assert path.suffix == ".opus" and not list(path.parent.glob("*.wav")), "the leg WAVs were not removed"
    rate, channels, (caller_ch, operator_ch) = read_wav(decode_opus(path, tmp_path / "decoded.wav"))
    assert (rate, channels) == (8000, 2)
    assert abs(len(caller_ch) / rate - record["talk_s"]) < 0.5
    assert abs(recording["duration_s"] - len(caller_ch) / rate) < 0.05
    assert recording["size_bytes"] == path.stat().st_size <= 0.2e6 * recording["duration_s"] / 60 + 4096
    assert rms_dbfs(caller_ch) > -20 and rms_dbfs(operator_ch) > -20  # not silence
    # Each party on its own channel: the carrier's 1 kHz on the left, the operator's 440 Hz on the right.
    assert tone_power(caller_ch, 1000) > 0.5 and tone_power(caller_ch, 440) < 0.05
    assert tone_power(operator_ch, 440) > 0.5 and tone_power(operator_ch, 1000) < 0.05


def test_ip_trunk_refuses_strangers(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """An INVITE from an address that is no configured trunk gets 403 and leaves no call behind."""
    box = box_factory(ip_trunk() + operators("sip:101@127.0.0.1:9") + queue())
    stranger = Sipp("carrier_call_rejected.xml", box.sip, ip="127.0.0.3", service="4951000", timeout=10)
    with stranger.start():
        result = stranger.wait_sync()
    assert result.response_codes("INVITE") [-1] == 403, result.describe()
    assert box.calls() == []
    assert box.healthz()["active_calls"] == 0


def test_caller_cancels_while_ringing(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """In a ringing queue the caller gives up before anyone answers: ABANDON, the operator stops ringing."""
    with operator(scenario="operator_noanswer.xml") as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}")
                          + queue(wait_mode="ringing", ring_timeout_s=30))
        with carrier(box, tones, 0, scenario="carrier_call_cancel.xml", cancel_ms=1500).start() as call:
            result = call.wait_sync()
        assert result.ok, result.describe()
        assert 487 in result.response_codes("INVITE")
        phone_result = phone.wait_sync(10)
    assert "CANCEL" in phone_result.requests(), phone_result.describe()
    record = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]], what="the call record")[0]
    assert record["disposition"] == "ABANDONED"
    assert record["answered_at"] is None
    assert box.events(record["id"]) == [("ENTERQUEUE", ""), ("ABANDON", "")]


def test_caller_hangs_up_during_hold_music(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """A caller who hears the music and hangs up is an ABANDON with the time they waited."""
    with operator(scenario="operator_noanswer.xml") as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue(ring_timeout_s=30))
        with carrier(box, tones, hold_ms=2500).start() as call:
            assert call.wait_sync().ok
    record = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]], what="the call record")[0]
    assert record["disposition"] == "ABANDONED"
    assert record["answered_at"] is not None
    assert 2.0 <= record["hold_s"] <= 4.0
    abandon = box.rows("SELECT * FROM queue_event WHERE event = 'ABANDON'")[0]
    assert (abandon["data1"], abandon["data2"]) == ("1", "1")  # position, original position
    assert 2 <= int(abandon["data3"]) <= 4  # wait time


@pytest.mark.parametrize("first", ["operator_noanswer.xml", "operator_busy.xml"])
def test_next_operator_when_first_does_not_answer(first: str, box_factory: Callable[..., Box],
                                                   tones: dict[int, Path]) -> None:
    """rrmemory: no answer (ring timeout) or 486 from the first operator moves the call to the next."""
    with operator(scenario=first) as op1, RtpSink() as sink, operator(sink) as op2:
        box = box_factory(ip_trunk() + operators(f"sip:101@{op1.address}", f"sip:102@{op2.address}")
                          + queue(members=2, strategy="rrmemory", ring_timeout_s=2, retry_s=0))
        with carrier(box, tones, hold_ms=4500).start() as call:
            assert call.wait_sync().ok
        assert sink.samples(), "the second operator heard nothing"
    record = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]], what="the call record")[0]
    assert record["operator"] == "op102"
    assert box.events(record["id"]) == [("ENTERQUEUE", ""), ("RINGNOANSWER", "op101"), ("CONNECT", "op102"),
                                        ("COMPLETECALLER", "op102")]
    rna = box.rows("SELECT * FROM queue_event WHERE event = 'RINGNOANSWER'")[0]
    if first == "operator_busy.xml":
        assert rna["data2"] == "486"
    else:
        assert rna["data2"] == "timeout" and 1800 <= int(rna["data1"]) <= 3500


def test_operator_hangs_up_first(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """The operator's BYE ends the caller's leg too: COMPLETEAGENT."""
    with RtpSink() as sink, operator(sink, hangup_ms=1500) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue())
        with carrier(box, tones, hold_ms=8000).start() as call:
            result = call.wait_sync()
        assert result.ok, result.describe()
        assert "BYE" in result.requests(), "the caller was not hung up"
    record = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]], what="the call record")[0]
    assert box.events(record["id"])[-1] == ("COMPLETEAGENT", "op101")
    assert 1.0 <= record["talk_s"] <= 3.0


def test_two_callers_are_served_in_arrival_order(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """One operator, two callers: the first to arrive is connected first (FIFO), the second waits."""
    with RtpSink() as sink, operator(sink, calls=2, hangup_ms=1500, ring_ms=200) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue(retry_s=0))
        first = carrier(box, tones, hold_ms=9000, caller="111").start()
        box.wait_for(lambda: box.healthz()["queues"]["support"]["waiting"] == 0
                     and box.healthz()["connected_calls"] == 1, what="the first caller connected")
        second = carrier(box, tones, hold_ms=9000, caller="222").start()
        with first, second:
            assert first.wait_sync().ok and second.wait_sync().ok
    records = box.wait_for(lambda: [c for c in box.calls() if c["disposition"]] if len(
        [c for c in box.calls() if c["disposition"]]) == 2 else None, what="both call records")
    connected = sorted(records, key=lambda r: r["connected_at"])
    assert [r["caller"] for r in connected] == ["111", "222"]
    assert connected[1]["hold_s"] >= 1.0  # it waited for the operator to be free


def test_admission_control_refuses_with_503(box_factory: Callable[..., Box], tones: dict[int, Path]) -> None:
    """Beyond the engine's call limit new callers get 503, and the box keeps carrying the others."""
    with operator(scenario="operator_noanswer.xml", calls=5) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue(ring_timeout_s=30),
                          sip_max_calls=4)
        callers = [carrier(box, tones, hold_ms=4000, caller=str(n)).start() for n in range(2)]
        box.wait_for(lambda: box.healthz()["queues"]["support"]["waiting"] == 2, what="two callers waiting")
        third = Sipp("carrier_call_rejected.xml", box.sip, ip=CARRIER_IP, service="4951000", timeout=10).start()
        with third:
            assert third.wait_sync().response_codes("INVITE")[-1] == 503
        for call in callers:
            with call:
                assert call.wait_sync().ok
    assert box.healthz()["engine"]["up"]
