"""Self-tests of the SIP harness: G.711, Goertzel, pcaps, and SIPp scenarios against each other."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import socket
import struct
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.rtp import (
    ALAW_DECODE,
    ULAW_DECODE,
    Payload,
    RtpSink,
    decode,
    dominant_frequency,
    encode,
    linear_to_alaw,
    linear_to_ulaw,
    read_wav,
    rms_dbfs,
    rtp_packet,
    tone,
    tone_power,
    write_tone_pcap,
    write_wav,
)
from tests.support.sipp import SCENARIO_DIR, STOCK_PCAP, Sipp, SippResult, free_udp_port

needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (sip-tester) is not installed")
CANDIDATES = (400.0, 697.0, 1000.0, 1400.0)


@pytest.mark.parametrize("law", ["PCMA", "PCMU"])
def test_g711_round_trip(law: Payload) -> None:
    """Every code decodes and re-encodes to itself; linear samples survive within one quantisation step."""
    table, enc = (ALAW_DECODE, linear_to_alaw) if law == "PCMA" else (ULAW_DECODE, linear_to_ulaw)
    assert all(table[enc(table[code])] == table[code] for code in range(256))
    for x in range(-32768, 32768, 7):
        assert abs(table[enc(x)] - x) <= max(64, abs(x) // 16), x
    assert decode(encode([0, 1000, -1000], law), law) == [table[enc(v)] for v in (0, 1000, -1000)]


@pytest.mark.parametrize("law", ["PCMA", "PCMU"])
def test_g711_matches_audioop(law: Payload) -> None:
    """Bit-exact with CPython's audioop where it still exists (deprecated in 3.11, gone in 3.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            audioop = importlib.import_module("audioop")
        except ImportError:
            pytest.skip("no audioop in this Python")
    samples = list(range(-32768, 32768, 3))
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    theirs = audioop.lin2alaw(pcm, 2) if law == "PCMA" else audioop.lin2ulaw(pcm, 2)
    assert encode(samples, law) == theirs


def test_goertzel_and_levels() -> None:
    """Tone power is ~1 at the tone, ~0 elsewhere; the dominant tone wins a mix; levels read in dBFS."""
    t1k = tone(1000, 1.0)
    assert tone_power(t1k, 1000) > 0.99
    assert tone_power(t1k, 400) < 0.001
    assert tone_power([0] * 8000, 1000) == 0.0
    mix = [a + b for a, b in zip(tone(1000, 1.0, dbfs=-12), tone(400, 1.0, dbfs=-24), strict=True)]
    assert dominant_frequency(mix, CANDIDATES) == 1000.0
    assert 0.9 < tone_power(mix, 1000) < 0.99
    assert rms_dbfs(t1k) == pytest.approx(-10.0, abs=0.05)
    assert rms_dbfs(decode(encode(t1k, "PCMA"), "PCMA")) == pytest.approx(-10.0, abs=0.2)
    assert tone_power(tone(697, 1.0, rate=16000), 697, rate=16000) > 0.99


def test_tone_pcap_layout(tmp_path: Path) -> None:
    """Same pcap header as SIPp's stock g711a.pcap; 20 ms RTP packets with consecutive seq and timestamps."""
    path = write_tone_pcap(tmp_path / "t.pcap", 1000, 1.0, payload="PCMU")
    data = path.read_bytes()
    if STOCK_PCAP.exists():
        assert data[:24] == STOCK_PCAP.read_bytes()[:24]
    offset, packets = 24, []
    while offset < len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[offset:offset + 16])
        assert caplen == length
        frame = data[offset + 16:offset + 16 + caplen]
        assert frame[12:14] == b"\x08\x00"  # IPv4
        assert frame[23] == 17  # UDP
        packets.append((sec * 1_000_000 + usec, frame[42:]))
        offset += 16 + caplen
    assert len(packets) == 50
    for index, (when, rtp) in enumerate(packets):
        assert len(rtp) == 12 + 160
        assert rtp[1] & 0x7F == 0
        seq, ts = struct.unpack("!HI", rtp[2:8])
        assert (seq, ts, when) == (packets[0][1][2] * 256 + packets[0][1][3] + index, 8000 + 160 * index,
                                   packets[0][0] + 20_000 * index)
    audio = [s for _, rtp in packets for s in decode(rtp[12:], "PCMU")]
    assert dominant_frequency(audio, CANDIDATES) == 1000.0


def test_wav_round_trip(tmp_path: Path) -> None:
    """A stereo 16 kHz WAV reads back per channel."""
    left, right = tone(400, 0.1, rate=16000), tone(1000, 0.1, rate=16000, dbfs=-20)
    rate, channels, data = read_wav(write_wav(tmp_path / "r.wav", [left, right], rate=16000))
    assert (rate, channels, data) == (16000, 2, [left, right])


def test_rtp_sink_decodes_pcma_and_pcmu() -> None:
    """The sink parses RTP, skips non-audio payload types and decodes both laws."""
    with RtpSink(max_seconds=5) as sink, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        samples = tone(1000, 0.04)
        tx.sendto(rtp_packet(8, 1, 0, 7, encode(samples[:160], "PCMA"), marker=True), (sink.host, sink.port))
        tx.sendto(rtp_packet(101, 2, 160, 7, b"\x01\x0a\x00\xa0"), (sink.host, sink.port))
        tx.sendto(rtp_packet(0, 3, 160, 7, encode(samples[160:], "PCMU")), (sink.host, sink.port))
        tx.sendto(b"not rtp", (sink.host, sink.port))
        assert sink.wait_packets(3, timeout=2)
        assert [p.payload_type for p in sink.packets] == [8, 101, 0]
        assert sink.packets[0].marker
        assert sink.packets[0].ssrc == 7
        got = sink.samples()
    assert len(got) == 320
    assert max(abs(a - b) for a, b in zip(got, samples, strict=True)) < 700


async def run_pair(
    uas: Sipp, uac_scenario: str, limit: float = 12.0, **uac: object
) -> tuple[SippResult, SippResult]:
    """Start the UAS, run a UAC against it (SIPp -timeout limit), and return both results (UAS first)."""
    with uas, Sipp(uac_scenario, uas.address, timeout=limit, **uac) as client:  # type: ignore[arg-type]
        uac_result, uas_result = await asyncio.gather(client.wait(), uas.wait())
    return uas_result, uac_result


@needs_sipp
@pytest.mark.parametrize("operator_hangs_up", [False, True])
async def test_carrier_audio_reaches_operator_sink(tmp_path: Path, operator_hangs_up: bool) -> None:
    """carrier_call plays a 1 kHz pcap at the operator's SDP port, where an RtpSink hears it."""
    pcap = write_tone_pcap(tmp_path / "tone1k.pcap", 1000, 2.0)
    with RtpSink(max_seconds=15) as sink:
        hangup_ms, hold_ms = (2200, 5000) if operator_hangs_up else (0, 2300)
        operator = Sipp("operator_answer.xml", timeout=12, workdir=tmp_path / "op",
                        keys={"rtp_port": sink.port, "ring_ms": 200, "hangup_ms": hangup_ms})
        op, carrier = await run_pair(operator, "carrier_call.xml", workdir=tmp_path / "carrier",
                                     service="100", keys={"pcap": pcap, "hold_ms": hold_ms})
        audio = sink.samples()
    assert carrier.ok, carrier.describe()
    assert op.ok, op.describe()
    assert carrier.response_codes("INVITE") == [180, 200]
    assert ("BYE" in carrier.requests()) is operator_hangs_up
    assert len(sink.packets) >= 90
    assert dominant_frequency(audio, CANDIDATES) == 1000.0
    assert tone_power(audio, 1000) > 0.95
    assert rms_dbfs(audio) == pytest.approx(-10.0, abs=1.0)


MID_CALL = """  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[

      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$inv_to];tag=[pid]SIPpTag01[call_number]
      To: [$inv_from]
      Call-ID: [call_id]
      CSeq: 2 INVITE
      Contact: <sip:operator@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=operator 53655765 2353687638 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio [rtp_port] RTP/AVP 8
      a=sendonly

  ]]></send>
  <recv response="200"/>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$inv_to];tag=[pid]SIPpTag01[call_number]
      To: [$inv_from]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$inv_to];tag=[pid]SIPpTag01[call_number]
      To: [$inv_from]
      Call-ID: [call_id]
      CSeq: 3 INFO
      Content-Length: 0

  ]]></send>
  <recv response="200"/>
"""


@needs_sipp
async def test_carrier_answers_mid_call_requests_and_keeps_its_timing(tmp_path: Path) -> None:
    """A re-INVITE and an INFO during the hold are answered; the BYE still leaves hold_ms after the ACK."""
    chatty = tmp_path / "chatty" / "operator_answer.xml"
    chatty.parent.mkdir()
    xml = (SCENARIO_DIR / "operator_answer.xml").read_text()
    chatty.write_text(xml.replace('  <nop condexec="plays">', MID_CALL + '  <nop condexec="plays">', 1))
    operator = Sipp(chatty, timeout=10, workdir=tmp_path / "op", keys={"rtp_port": free_udp_port()})
    op, carrier = await run_pair(operator, "carrier_call.xml", workdir=tmp_path / "carrier",
                                 keys={"hold_ms": 1500})
    assert carrier.ok, carrier.describe()
    assert op.ok, op.describe()
    assert carrier.requests() == ["INVITE", "ACK", "INFO"]
    assert carrier.response_codes(direction="sent") == [200, 200]
    assert "re-INVITE answered" in carrier.logs
    ack, bye = (next(m for m in carrier.sent if m.method == method) for method in ("ACK", "BYE"))
    held = datetime.fromisoformat(bye.timestamp) - datetime.fromisoformat(ack.timestamp)
    assert 1.4 < held.total_seconds() < 1.8


@needs_sipp
async def test_operator_handles_cancel_while_ringing(tmp_path: Path) -> None:
    """operator_answer still ringing takes the carrier's CANCEL: 200, 487, ACK."""
    operator = Sipp("operator_answer.xml", timeout=10, workdir=tmp_path / "op",
                    keys={"rtp_port": free_udp_port(), "ring_ms": 5000})
    op, carrier = await run_pair(operator, "carrier_call_cancel.xml", workdir=tmp_path / "carrier",
                                 keys={"cancel_ms": 200})
    assert carrier.ok, carrier.describe()
    assert op.ok, op.describe()
    assert carrier.response_codes() == [180, 200, 487]


@needs_sipp
async def test_rejected_call_sees_busy(tmp_path: Path) -> None:
    """carrier_call_rejected against operator_busy records 486 and ACKs it."""
    busy = Sipp("operator_busy.xml", timeout=10, workdir=tmp_path / "busy")
    uas, uac = await run_pair(busy, "carrier_call_rejected.xml", workdir=tmp_path / "uac", service="100")
    assert uac.ok, uac.describe()
    assert uas.ok, uas.describe()
    assert 486 in uac.response_codes("INVITE")
    assert "final_code=486" in uac.logs
    assert uac.requests("sent") == ["INVITE", "ACK"]


@needs_sipp
async def test_cancel_before_answer(tmp_path: Path) -> None:
    """carrier_call_cancel against operator_noanswer: 180, CANCEL, 200 + 487, ACK."""
    ringing = Sipp("operator_noanswer.xml", timeout=10, workdir=tmp_path / "noanswer")
    uas, uac = await run_pair(ringing, "carrier_call_cancel.xml", workdir=tmp_path / "uac", service="100",
                              keys={"cancel_ms": 300})
    assert uac.ok, uac.describe()
    assert uas.ok, uas.describe()
    assert uac.response_codes() == [180, 200, 487]
    assert uac.response_codes("CANCEL") == [200]
    assert uas.requests() == ["INVITE", "CANCEL", "ACK"]


@needs_sipp
@pytest.mark.parametrize(("password", "expect_ok"), [("s3cret", True), ("wrong", False)])
async def test_registrar_digest(tmp_path: Path, password: str, expect_ok: bool) -> None:
    """registrar.xml challenges, verifies the digest (200 or 403), keeps re-registrations and de-registers."""
    registrar = Sipp("registrar.xml", timeout=8, workdir=tmp_path / "registrar",
                     keys={"auth_user": "alice", "auth_pass": "s3cret", "expires": 120})
    uas, uac = await run_pair(registrar, "register_client.xml", limit=8, workdir=tmp_path / "client",
                              auth=("alice", password), keys={"user": "alice", "expires": 3600},
                              recv_timeout_ms=3000)
    if expect_ok:
        assert uac.ok, uac.describe()
        assert uas.ok, uas.describe()
        assert uac.response_codes("REGISTER") == [401, 200, 200, 200]
        challenge = uac.received[0].header("WWW-Authenticate") or ""
        assert 'realm="carrier.test"' in challenge
        contact = uac.received[1].header("Contact") or ""
        assert contact.startswith("<sip:alice@127.0.0.1:")
        assert contact.endswith(">;expires=120")
        assert uac.received[1].header("Expires") == "120"
    else:
        assert not uac.ok
        assert uac.response_codes("REGISTER")[:2] == [401, 403]


@needs_sipp
async def test_sipp_ends_by_itself_without_peer(tmp_path: Path) -> None:
    """With nobody listening, -timeout ends sipp on its own and the result reports the failure."""
    with Sipp("carrier_call.xml", "127.0.0.1:9", timeout=2, workdir=tmp_path / "alone") as lonely:
        result = await lonely.wait(timeout=8)
    assert not result.timed_out
    assert not result.ok
    assert result.returncode != 0
    assert result.requests("sent")[0] == "INVITE"
