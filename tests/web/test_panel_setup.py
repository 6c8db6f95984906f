"""First boot: the set-up code claims the box once; the wizard saves all or nothing and re-runs safely."""

from __future__ import annotations

import stat

import httpx
from litestar import Litestar

from appliance.auth import Auth
from appliance.storage import Operator, Queue, Trunk, User
from tests.web.panel import PASSWORD, claim, field_error, post_form


async def test_nothing_but_setup_is_reachable_before_the_wizard_is_done(client: httpx.AsyncClient) -> None:
    for path in ("/", "/trunks", "/settings", "/records", "/login?next=/"):
        response = await client.get(path)
        assert response.status_code in (200, 303), path
        if response.status_code == 303:
            assert response.headers["location"] == "/setup", path
    assert (await client.get("/trunks", headers={"HX-Request": "true"})).headers["hx-redirect"] == "/setup"
    assert (await client.get("/api/v1/status")).status_code == 401
    page = await client.get("/setup")
    assert "Claim this box" in page.text and "Set-up code" in page.text


async def test_code_is_in_an_owner_only_file_and_a_wrong_code_claims_nothing(client: httpx.AsyncClient,
                                                                             auth: Auth) -> None:
    code = await auth.first_boot.prepare()
    assert code is not None
    mode = stat.S_IMODE(auth.first_boot.code_path.stat().st_mode)
    assert mode == 0o600
    assert auth.first_boot.code_path.read_text().replace("-", "").strip() == code
    await client.get("/setup")
    response = await post_form(client, "/setup/claim", {"code": "AAAA-BBBB-CCCC", "username": "admin",
                                                        "password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 422
    assert "not the set-up code" in field_error(response.text, "code")
    assert await User.all().count() == 0


async def test_weak_password_is_refused_next_to_the_field(client: httpx.AsyncClient, auth: Auth) -> None:
    code = await auth.first_boot.prepare()
    await client.get("/setup")
    response = await post_form(client, "/setup/claim", {"code": code, "username": "admin", "password": "short",
                                                        "password_confirm": "short"})
    assert response.status_code == 422
    assert "at least 10" in field_error(response.text, "password")
    assert await User.all().count() == 0


async def test_claim_signs_in_and_cannot_be_made_again(client: httpx.AsyncClient, auth: Auth,
                                                      app: Litestar) -> None:
    code = await auth.first_boot.prepare()
    response = await claim(client, auth)
    assert response.status_code == 303 and response.headers["location"] == "/setup?step=office"
    assert not auth.first_boot.code_path.exists()
    user = await User.get(username="admin")
    assert user.role == "admin" and user.password_hash.startswith("$argon2id$")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://box") as stranger:
        await stranger.get("/login")
        again = await post_form(stranger, "/setup/claim", {"code": code, "username": "evil", "password": PASSWORD,
                                                           "password_confirm": PASSWORD})
        assert again.status_code == 403
        assert (await stranger.get("/setup")).headers["location"].startswith("/login")
    assert await User.filter(username="evil").count() == 0


async def wizard(client: httpx.AsyncClient, seat: str = "sip:101@192.0.2.50:5060") -> None:
    """Walk through office, carrier and queue steps with good values."""
    assert (await post_form(client, "/setup/office", {"box_name": "Front desk",
                                                      "timezone": "Europe/Berlin"})).status_code == 303
    trunk = {"name": "carrier-a", "kind": "ip", "host": "192.0.2.10", "transport": "udp", "realm": "*"}
    existing = await Trunk.all().first()
    response = await post_form(client, "/setup/carrier", {**trunk, "id": existing.id if existing else ""})
    assert response.status_code == 200 and "saved" in response.text
    form = await client.get("/setup?step=queue")
    assert form.status_code == 200
    ops = await Operator.all().order_by("extension")
    rows = {"queue_id": (await Queue.all().first()).id if await Queue.exists() else "", "name": "support",
            "strategy": "ringall", "wait_mode": "music", "numbers": "*",
            "op-0-id": ops[0].id if ops else "", "op-0-name": "Anna", "op-0-extension": "101", "op-0-seat": seat,
            "op-1-id": "", "op-1-name": "", "op-1-extension": "", "op-1-seat": ""}
    response = await post_form(client, "/setup/queue", rows)
    assert response.status_code == 303, response.text
    assert (await post_form(client, "/setup/finish", {})).status_code == 303


async def test_wizard_end_to_end_and_rerun_edits_the_same_rows(client: httpx.AsyncClient, auth: Auth,
                                                               services: object) -> None:
    await claim(client, auth)
    bad = await post_form(client, "/setup/carrier", {"name": "carrier-a", "kind": "registration", "host": "x y"})
    assert bad.status_code == 422
    assert field_error(bad.text, "host") and field_error(bad.text, "username")
    assert await Trunk.all().count() == 0
    await wizard(client)
    assert (await client.get("/")).status_code == 200
    assert [t.name for t in services.engine.trunks] == ["carrier-a"]  # type: ignore[attr-defined]
    assert list(services.acd.directory.queues) == ["support"]  # type: ignore[attr-defined]
    await wizard(client, seat="sip:101@192.0.2.51:5060")  # the wizard again, a new seat
    assert await Trunk.all().count() == 1 and await Queue.all().count() == 1 and await Operator.all().count() == 1
    operator = next(iter(services.acd.directory.operators.values()))  # type: ignore[attr-defined]
    assert operator.seat.target == "sip:101@192.0.2.51:5060"


async def test_queue_step_saves_nothing_when_one_field_is_wrong(client: httpx.AsyncClient, auth: Auth) -> None:
    await claim(client, auth)
    response = await post_form(client, "/setup/queue", {
        "queue_id": "", "name": "support", "strategy": "ringall", "wait_mode": "music", "numbers": "*",
        "op-0-id": "", "op-0-name": "Anna", "op-0-extension": "101", "op-0-seat": "sip:101@192.0.2.50",
        "op-1-id": "", "op-1-name": "Boris", "op-1-extension": "1x", "op-1-seat": "not a uri"})
    assert response.status_code == 422
    assert "digits" in field_error(response.text, "op-1-extension")
    assert "SIP address" in field_error(response.text, "op-1-seat")
    assert await Operator.all().count() == 0 and await Queue.all().count() == 0


async def test_step_partial_for_htmx(client: httpx.AsyncClient, auth: Auth) -> None:
    await claim(client, auth)
    full = await client.get("/setup?step=office")
    part = await client.get("/setup?step=office", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in part.text
    assert 'name="timezone"' in part.text
