"""Carrier trunks: registration with digest auth against a SIPp registrar, and its incidents."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.box import Box, operators, queue
from tests.support.sipp import Sipp

pytestmark = pytest.mark.sip


def registration_trunk(registrar: Sipp, password: str) -> str:
    """TOML of a registration trunk at the SIPp registrar."""
    return (f'[[trunk]]\nname = "carrier-reg"\nkind = "registration"\nhost = "{registrar.address}"\n'
            f'username = "callbox"\npassword = "{password}"\nrealm = "carrier.test"\n')


def trunk_status(box: Box) -> dict[str, object]:
    """The registration trunk as /healthz shows it."""
    return next(t for t in box.healthz()["trunks"] if t["name"] == "carrier-reg")


def test_registration_with_digest_auth(box_factory: Callable[..., Box]) -> None:
    """401 challenge, then 200: the trunk is registered and up, with no incident."""
    registrar = Sipp("registrar.xml", ip="127.0.0.2", keys={"auth_user": "callbox", "auth_pass": "s3cret!"},
                     timeout=30)
    with registrar:
        box = box_factory(registration_trunk(registrar, "s3cret!") + operators("sip:101@127.0.0.1:9") + queue())
        status = box.wait_for(lambda: (s := trunk_status(box))["registered"] and s, what="registration")
        assert status["state"] == "up"
        assert status["last_code"] == 200
        box.stop()
        result = registrar.wait_sync(10)
    codes = result.response_codes("REGISTER", direction="sent")
    assert codes[:2] == [401, 200], result.describe()
    assert str(result.messages[2].header("Authorization")).startswith("Digest "), result.describe()
    assert box.rows("SELECT * FROM incident") == []
    # The secret never reaches the log, not even as a digest response.
    assert "s3cret!" not in box.log.read_text()


def test_wrong_password_opens_an_actionable_incident(box_factory: Callable[..., Box]) -> None:
    """403 after the challenge: the trunk is down and an incident names the registration failure."""
    registrar = Sipp("registrar.xml", ip="127.0.0.2", keys={"auth_user": "callbox", "auth_pass": "right"},
                     timeout=30)
    with registrar:
        box = box_factory(registration_trunk(registrar, "wrong") + operators("sip:101@127.0.0.1:9") + queue())
        status = box.wait_for(lambda: (s := trunk_status(box))["last_code"] == 403 and s, what="a 403")
        assert status["registered"] is False
        assert status["state"] == "down"
        assert "403" in str(status["last_error"])
    incidents = box.wait_for(lambda: box.rows("SELECT * FROM incident"), what="the incident")
    assert len(incidents) == 1
    assert (incidents[0]["kind"], incidents[0]["subject"]) == ("trunk", "carrier-reg")
    assert "403" in incidents[0]["cause"] and incidents[0]["ended_at"] is None
