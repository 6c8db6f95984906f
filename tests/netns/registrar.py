"""A carrier's SIP registrar for the uplink tests: answers REGISTER and OPTIONS, logs each source.

SIPp cannot tell where a request came from (its `[remote_ip]` stays empty for a UAS), and which
uplink a REGISTER took is the point of these tests. So this registrar answers like a real one
(200 with `received`/`rport` in the Via, which makes PJSIP rewrite its Contact after a switch)
and writes one JSON line per request: time, source address and port, method, Contact.

    ip netns exec <carrier> python -m tests.netns.registrar 198.51.100.10 5060 requests.jsonl
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time


def response(request: str, source: tuple[str, int]) -> str:
    """The 200 OK for a REGISTER or OPTIONS, with the source in the top Via."""
    head = request.split("\r\n\r\n", 1)[0].split("\r\n")
    keep = [line for line in head[1:] if line.split(":", 1)[0].strip().lower() in ("from", "call-id", "cseq")]
    via = next(line for line in head[1:] if line.lower().startswith(("via:", "v:")))
    via = re.sub(r";rport(=\d+)?", "", via) + f";received={source[0]};rport={source[1]}"
    to = next(line for line in head[1:] if line.lower().startswith(("to:", "t:")))
    lines = ["SIP/2.0 200 OK", via, *keep, to + ";tag=registrar"]
    contact = next((line for line in head[1:] if line.lower().startswith(("contact:", "m:"))), "")
    if head[0].startswith("REGISTER") and contact:
        lines += [contact.split(">")[0] + ">;expires=300" if ">" in contact else contact, "Expires: 300"]
    return "\r\n".join([*lines, "Content-Length: 0", "", ""])


def serve(address: str, port: int, log_path: str) -> None:
    """Answer for ever (the test kills us), logging every request."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    with open(log_path, "a", buffering=1) as log:  # line-buffered: the test reads while we run
        while True:
            data, source = sock.recvfrom(65535)
            text = data.decode(errors="replace")
            method = text.split(" ", 1)[0]
            if method not in ("REGISTER", "OPTIONS"):
                continue
            contact = re.search(r"^(?:Contact|m):\s*(.*)$", text, re.M | re.I)
            log.write(json.dumps({"t": time.time(), "src": source[0], "port": source[1], "method": method,
                                  "contact": contact.group(1).strip() if contact else ""}) + "\n")
            sock.sendto(response(text, source).encode(), source)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
