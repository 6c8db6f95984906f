"""A carrier that calls the box and follows it across an uplink switch, as a real carrier does.

SIPp's UAC sends every request and response to the one address it was started with, so a
re-INVITE from the box's new address never gets its 200 back. This small UAC answers each
request at its source (Via received), moves its RTP to the address of the latest SDP, and
measures what the call felt: RTP from the box per source address and the longest silence.

    ip netns exec <carrier> python -m tests.netns.carrier 198.51.100.10 10.1.0.2:5060 4951000 out.json 8

It hangs up (BYE to the box's latest Contact) that many seconds after the answer, or answers the
box's BYE; either way the call is over then.
"""

from __future__ import annotations

import json
import re
import select
import socket
import struct
import sys
import time
import uuid
from typing import Any

SIP_PORT, RTP_PORT = 5080, 30000


def header(msg: str, name: str) -> str:
    """The first value of a header, empty if absent."""
    found = re.search(rf"^{name}:\s*(.*?)\r?$", msg, re.M | re.I)
    return found.group(1).strip() if found else ""


def sdp_media(msg: str) -> tuple[str, int] | None:
    """The c= address and m=audio port of a message's SDP."""
    addr, port = re.search(r"^c=IN IP4 (\S+)", msg, re.M), re.search(r"^m=audio (\d+)", msg, re.M)
    return (addr.group(1), int(port.group(1))) if addr and port else None


def sdp(me: str) -> str:
    """Our offer/answer: PCMA on RTP_PORT."""
    return (f"v=0\r\no=carrier 1 1 IN IP4 {me}\r\ns=-\r\nc=IN IP4 {me}\r\nt=0 0\r\n"
            f"m=audio {RTP_PORT} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n")


def ok(request: str, me: str, body: str = "") -> str:
    """A 200 OK to a request, copying its dialog headers."""
    vias = "".join(f"{line}\r\n" for line in re.findall(r"^Via:.*?(?=\r?$)", request, re.M | re.I))
    extra = f"Contact: <sip:carrier@{me}:{SIP_PORT}>\r\nContent-Type: application/sdp\r\n" if body else ""
    return (f"SIP/2.0 200 OK\r\n{vias}From: {header(request, 'From')}\r\nTo: {header(request, 'To')}\r\n"
            f"Call-ID: {header(request, 'Call-ID')}\r\nCSeq: {header(request, 'CSeq')}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}")


class Carrier:
    """One call from the carrier to the box, with its log."""

    def __init__(self, me: str, box: tuple[str, int], number: str) -> None:
        self.me, self.box, self.number = me, box, number
        self.target, self.to = "", ""  # the box's Contact (updated by its re-INVITEs) and To with its tag
        self.call_id, self.tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((me, SIP_PORT))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((me, RTP_PORT))
        self.remote_media: tuple[str, int] | None = None
        self.log: dict[str, Any] = {"reinvites": [], "rtp": {}, "max_gap_ms": 0.0, "gap_end": None}
        self.last_rtp = 0.0
        self.seq = 0

    def invite(self) -> None:
        """Send the INVITE."""
        body = sdp(self.me)
        self.sip.sendto((f"INVITE sip:{self.number}@{self.box[0]}:{self.box[1]} SIP/2.0\r\n"
                         f"Via: SIP/2.0/UDP {self.me}:{SIP_PORT};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
                         f"From: <sip:79001234567@{self.me}>;tag={self.tag}\r\n"
                         f"To: <sip:{self.number}@{self.box[0]}>\r\n"
                         f"Call-ID: {self.call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:carrier@{self.me}:{SIP_PORT}>\r\n"
                         f"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
                         f"{body}").encode(), self.box)
        self.log["invite_at"] = time.time()

    def on_sip(self, msg: str, source: tuple[str, int]) -> bool:
        """Handle one SIP message; True when the call is over."""
        cseq = header(msg, "CSeq")
        if msg.startswith("SIP/2.0 200") and cseq.endswith("INVITE") and "answered_at" not in self.log:
            self.log["answered_at"] = time.time()
            self.remote_media = sdp_media(msg)
            self.to, self.target = header(msg, "To"), self._contact(msg)
            self.sip.sendto(self._request("ACK", 1).encode(), source)
        elif msg.startswith("SIP/2.0 200") and cseq.endswith("BYE"):
            self.log["bye_ok"] = {"t": time.time(), "src": source[0]}
            return True
        elif msg.startswith("INVITE "):
            self.remote_media = sdp_media(msg) or self.remote_media
            self.target = self._contact(msg) or self.target
            self.log["reinvites"].append({"t": time.time(), "src": source[0], "media": self.remote_media})
            self.sip.sendto(ok(msg, self.me, sdp(self.me)).encode(), source)
        elif msg.startswith("BYE "):
            self.log["bye"] = {"t": time.time(), "src": source[0]}
            self.sip.sendto(ok(msg, self.me).encode(), source)
            return True
        elif not msg.startswith(("SIP/2.0", "ACK ")):
            self.sip.sendto(ok(msg, self.me).encode(), source)
        return False

    @staticmethod
    def _contact(msg: str) -> str:
        found = re.search(r"<(sip:[^>]+)>", header(msg, "Contact"))
        return found.group(1) if found else ""

    def _request(self, method: str, cseq: int) -> str:
        return (f"{method} {self.target} SIP/2.0\r\nVia: SIP/2.0/UDP {self.me}:{SIP_PORT};branch=z9hG4bK"
                f"{uuid.uuid4().hex[:12]};rport\r\nFrom: <sip:79001234567@{self.me}>;tag={self.tag}\r\n"
                f"To: {self.to}\r\nCall-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n")

    def hang_up(self) -> None:
        """BYE to the box's latest Contact (its new address after a switch)."""
        host, _, port = self.target.split("@", 1)[-1].split(";", 1)[0].partition(":")
        self.log["bye_sent"] = {"t": time.time(), "to": self.target}
        self.sip.sendto(self._request("BYE", 2).encode(), (host, int(port or 5060)))

    def on_rtp(self, source: tuple[str, int]) -> None:
        """Count RTP from the box per source address, and the longest silence while answered."""
        now = time.time()
        entry = self.log["rtp"].setdefault(source[0], {"first": now, "last": now, "packets": 0})
        entry["last"], entry["packets"] = now, entry["packets"] + 1
        if self.last_rtp and (gap := (now - self.last_rtp) * 1000) > self.log["max_gap_ms"]:
            self.log["max_gap_ms"], self.log["gap_end"] = round(gap, 1), now
        self.last_rtp = now

    def send_rtp(self) -> None:
        """One 20 ms PCMA frame of silence to the box's current media address."""
        if self.remote_media is not None:
            self.seq += 1
            packet = struct.pack("!BBHII", 0x80, 8, self.seq & 0xFFFF, self.seq * 160, 0x1234) + b"\xd5" * 160
            self.rtp.sendto(packet, self.remote_media)

    def run(self, talk_s: float) -> None:
        """Place the call, hang up `talk_s` after the answer (BYE retransmitted), stop when it is over."""
        self.invite()
        deadline, next_rtp, next_bye = time.monotonic() + talk_s + 20, time.monotonic(), 0.0
        while time.monotonic() < deadline:
            answered = self.log.get("answered_at")
            if answered and time.time() >= answered + talk_s and time.monotonic() >= next_bye:
                self.hang_up()
                next_bye = time.monotonic() + 0.5
            ready, _, _ = select.select([self.sip, self.rtp], [], [], max(0.0, next_rtp - time.monotonic()))
            for sock in ready:
                data, source = sock.recvfrom(65535)
                if sock is self.rtp:
                    self.on_rtp(source)
                elif self.on_sip(data.decode(errors="replace"), source):
                    return
            if time.monotonic() >= next_rtp:
                self.send_rtp()
                next_rtp += 0.02


if __name__ == "__main__":
    host, port = sys.argv[2].rsplit(":", 1)
    carrier = Carrier(sys.argv[1], (host, int(port)), sys.argv[3])
    try:
        carrier.run(float(sys.argv[5]))
    finally:
        with open(sys.argv[4], "w") as out:
            json.dump(carrier.log, out)
