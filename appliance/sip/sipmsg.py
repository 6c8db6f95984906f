"""Reading the few header fields the appliance needs from a SIP message's text.

PJSIP has parsed and validated the message before we see it; this only picks fields out of
its text for routing (Request-URI user, To user) and the call record (From).
"""

from __future__ import annotations

import dataclasses
import re

# Compact header forms (RFC 3261 section 7.3.3) are as valid as the long ones.
_HEADER_NAMES = {"f": "from", "t": "to", "i": "call-id"}
_USER = re.compile(r"^(?:sips?|tel):([^@;>]*)", re.IGNORECASE)
_TOKEN = re.compile(r"[^0-9A-Za-z_-]")
TEST_HEADER = "X-Callbox-Test"  # carries a self-test call's token out through one carrier and back in
_REASONS = {408: "Request Timeout", 480: "Temporarily Unavailable", 486: "Busy Here", 487: "Request Terminated",
            503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline"}
_NAME_ADDR = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>')


@dataclasses.dataclass(frozen=True)
class InviteFields:
    """What routing and the call record take from an INVITE."""

    call_id: str = ""
    request_user: str = ""
    from_uri: str = ""
    from_user: str = ""
    from_name: str = ""
    to_user: str = ""
    test_marker: str = ""


def parse_invite(text: str) -> InviteFields:
    """Pick the routing fields out of a request's text; missing fields come back empty."""
    head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    request_uri = lines[0].split(" ")[1] if len(lines[0].split(" ")) >= 3 else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        headers.setdefault(_HEADER_NAMES.get(key, key), value.strip())
    from_name, from_uri = name_addr(headers.get("from", ""))
    _to_name, to_uri = name_addr(headers.get("to", ""))
    return InviteFields(
        call_id=headers.get("call-id", ""),
        request_user=uri_user(request_uri),
        from_uri=from_uri,
        from_user=uri_user(from_uri),
        from_name=from_name,
        to_user=uri_user(to_uri),
        test_marker=_TOKEN.sub("", headers.get(TEST_HEADER.lower(), "").split(";")[0])[:64],
    )


def name_addr(value: str) -> tuple[str, str]:
    """Split `"Name" <sip:user@host>;tag=x` (or a bare URI) into display name and URI."""
    match = _NAME_ADDR.match(value)
    if match:
        name = (match.group(1) if match.group(1) is not None else match.group(2) or "").strip()
        return name.replace('\\"', '"'), match.group(3).strip()
    return "", value.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """The user part of a sip:, sips: or tel: URI, or an empty string."""
    match = _USER.match(uri.strip())
    return match.group(1) if match else ""


def split_address(address: str) -> tuple[str, int]:
    """`'127.0.0.1:5060'` or `'[::1]:5060'` into host and port."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, int(rest.lstrip(":") or 0)
    host, _, port = address.rpartition(":")
    return (host, int(port)) if host else (address, 0)


def caller_id_headers(number: str, name: str, host: str) -> list[tuple[str, str]]:
    """Headers that show the original caller on the operator's phone (PAI and RPID)."""
    safe_number = re.sub(r"[^0-9A-Za-z+*#._-]", "", number)
    safe_name = re.sub(r'["\\\r\n]', "", name)
    display = f'"{safe_name}" ' if safe_name else ""
    uri = f"<sip:{safe_number}@{host}>"
    return [("P-Asserted-Identity", f"{display}{uri}"),
            ("Remote-Party-ID", f"{display}{uri};party=calling;screen=yes;privacy=off")]


def reason_header(code: int, text: str = "") -> tuple[str, str]:
    """A `Reason` header (RFC 3326) that tells the far end why we end its leg, e.g. 486."""
    safe = re.sub(r'["\\\r\n]', "", text or _REASONS.get(code, ""))
    return "Reason", f'SIP;cause={int(code)};text="{safe}"'


def safe_header(name: str, value: str) -> tuple[str, str]:
    """A header with a token name and a one-line value, or ValueError."""
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name) or any(c in value for c in "\r\n\0"):
        raise ValueError(f"not a safe SIP header: {name!r}")
    return name, value
