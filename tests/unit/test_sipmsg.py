"""Reading routing fields out of INVITE text."""

from appliance.sip.sipmsg import caller_id_headers, name_addr, parse_invite, split_address, uri_user

INVITE = (
    "INVITE sip:4951000@203.0.113.5:5060;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\r\n"
    'f: "Ivanov, Ivan" <sip:+79001234567@198.51.100.7>;tag=abc\r\n'
    "To: <sip:4951000@carrier.example>\r\n"
    "i: 1234@198.51.100.7\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_parse_invite_with_compact_headers() -> None:
    fields = parse_invite(INVITE)
    assert fields.request_user == "4951000"
    assert fields.to_user == "4951000"
    assert fields.from_user == "+79001234567"
    assert fields.from_name == "Ivanov, Ivan"
    assert fields.call_id == "1234@198.51.100.7"


def test_garbage_gives_empty_fields_not_an_error() -> None:
    fields = parse_invite("\x00\x01 not sip at all")
    assert fields.request_user == "" and fields.from_user == ""


def test_name_addr_forms() -> None:
    assert name_addr("<sip:1@h>;tag=x") == ("", "sip:1@h")
    assert name_addr("Anna <sip:1@h>") == ("Anna", "sip:1@h")
    assert name_addr("sip:1@h;tag=x") == ("", "sip:1@h")
    assert uri_user("tel:+4951000") == "+4951000"
    assert uri_user("mailto:x") == ""


def test_split_address() -> None:
    assert split_address("127.0.0.1:5060") == ("127.0.0.1", 5060)
    assert split_address("[::1]:5061") == ("::1", 5061)


def test_caller_id_headers_cannot_inject_headers() -> None:
    headers = dict(caller_id_headers('12"3\r\nX-Evil: 1', 'An"na\r\n', "box"))
    assert "\r" not in headers["P-Asserted-Identity"] and "\n" not in headers["P-Asserted-Identity"]
    assert headers["P-Asserted-Identity"] == '"Anna" <sip:123X-Evil1@box>'
