"""Security: CSRF on forms, 401 for the API without a token, roles, lockout, cookies, hashed secrets."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from litestar import Litestar

from appliance.auth import Auth
from appliance.storage import ApiToken, Operator, Trunk, WebSession
from tests.web.panel import PASSWORD, csrf, field_error, post_form

NewClient = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_form_without_csrf_token_is_rejected(admin_client: httpx.AsyncClient) -> None:
    data = {"name": "carrier-x", "kind": "ip", "host": "192.0.2.9"}
    response = await admin_client.post("/trunks/new", data=data)
    assert response.status_code == 403
    assert "expired" in response.text
    forged = await admin_client.post("/trunks/new", data={**data, "_csrf_token": "0" * 80})
    assert forged.status_code == 403
    assert await Trunk.all().count() == 0
    ok = await admin_client.post("/trunks/new", data={**data, "_csrf_token": csrf(admin_client)})
    assert ok.status_code == 303 and await Trunk.all().count() == 1


async def test_htmx_header_token_is_accepted(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.post("/broken/run", headers={"x-csrftoken": csrf(admin_client),
                                                               "HX-Request": "true"})
    assert response.status_code == 200 and "checks-table" in response.text


async def test_every_api_route_needs_a_token(app: Litestar, client: httpx.AsyncClient) -> None:
    routes = [(route.path, sorted(set(route.methods) - {"HEAD", "OPTIONS"})) for route in app.routes
              if route.path.startswith("/api/v1")]
    assert len(routes) > 10
    for path, methods in routes:
        concrete = re.sub(r"\{[a-z_]+:(int|str)\}", "1", path)
        for method in methods:
            response = await client.request(method, concrete)
            assert response.status_code == 401, (method, concrete, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")
    bad = await client.get("/api/v1/status", headers={"Authorization": "Bearer cbx_not-a-token"})
    assert bad.status_code == 401
    cookie_only = await client.get("/api/v1/status", cookies={"callbox_session": "x"})
    assert cookie_only.status_code == 401


async def test_tokens_are_stored_hashed_and_revocable(admin_client: httpx.AsyncClient, auth: Auth) -> None:
    page = await post_form(admin_client, "/settings/tokens", {"name": "monitor", "role": "supervisor"},
                           headers={"HX-Request": "true"})
    assert page.status_code == 200
    secret = page.text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("cbx_")
    row = await ApiToken.get(name="monitor")
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert secret not in (await admin_client.get("/settings")).text  # shown once
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(transport=admin_client._transport, base_url="http://box") as machine:
        assert (await machine.get("/api/v1/status", headers=headers)).status_code == 200
        assert (await machine.get("/api/v1/config/trunks", headers=headers)).status_code == 403  # supervisor
        await auth.tokens.revoke(row.id)
        assert (await machine.get("/api/v1/status", headers=headers)).status_code == 401


async def test_operator_cannot_reach_admin_or_supervisor_pages(login_as: NewClient) -> None:
    operator = await Operator.create(name="Anna", extension="101")
    browser = await login_as("operator", operator_id=operator.id)
    for path in ("/trunks", "/queues/new", "/operators", "/settings", "/records", "/recordings", "/incidents",
                 "/broken", "/", "/setup?step=office"):
        response = await browser.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text
    assert (await browser.get("/me")).status_code == 200
    denied = await post_form(browser, "/settings/users", {"username": "mallory", "role": "admin",
                                                          "password": PASSWORD})
    assert denied.status_code == 403


async def test_supervisor_sees_reports_but_not_configuration(login_as: NewClient) -> None:
    browser = await login_as("supervisor")
    for path in ("/", "/records", "/recordings", "/incidents", "/broken"):
        assert (await browser.get(path)).status_code == 200, path
    for path in ("/trunks", "/queues", "/operators", "/settings"):
        assert (await browser.get(path)).status_code == 403, path
    denied = await post_form(browser, "/trunks/new", {"name": "x", "kind": "ip", "host": "192.0.2.1"})
    assert denied.status_code == 403 and await Trunk.all().count() == 0


async def test_login_lockout_is_per_address_and_name(admin_client: httpx.AsyncClient, app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.77", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://box") as browser:
        for attempt in range(4):
            wrong = await post_form(browser, "/login", {"username": "admin", "password": f"wrong-{attempt}"})
            assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        locked = await post_form(browser, "/login", {"username": "admin", "password": "wrong-4"})
        assert locked.status_code == 429 and "locked" in locked.text
        right_but_locked = await post_form(browser, "/login", {"username": "admin", "password": PASSWORD})
        assert right_but_locked.status_code == 429
    other = httpx.ASGITransport(app=app, client=("192.0.2.78", 5000))
    async with httpx.AsyncClient(transport=other, base_url="http://box") as colleague:
        response = await post_form(colleague, "/login", {"username": "admin", "password": PASSWORD})
        assert response.status_code == 303


async def test_session_cookie_flags_logout_and_next(client: httpx.AsyncClient, admin_client: httpx.AsyncClient,
                                                    app: Litestar) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://box") as browser:
        assert (await browser.get("/records")).headers["location"] == "/login?next=/records"
        response = await post_form(browser, "/login", {"username": "admin", "password": PASSWORD,
                                                       "next": "//evil.example/x"})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert response.headers["location"] == "/"  # never off-site
        sessions = await WebSession.all().count()
        assert (await post_form(browser, "/logout", {})).status_code == 303
        assert await WebSession.all().count() == sessions - 1
        assert (await browser.get("/records")).status_code == 302


async def test_change_password_checks_the_current_one(admin_client: httpx.AsyncClient, auth: Auth) -> None:
    wrong = await post_form(admin_client, "/account", {"current": "nope", "password": "another good one",
                                                       "password_confirm": "another good one"})
    assert wrong.status_code == 422
    assert "current password" in field_error(wrong.text, "current")
    ok = await post_form(admin_client, "/account", {"current": PASSWORD, "password": "another good one",
                                                    "password_confirm": "another good one"})
    assert ok.status_code == 200 and "was changed" in ok.text
    assert await auth.users.authenticate("admin", "another good one") is not None
    assert await auth.users.authenticate("admin", PASSWORD) is None
