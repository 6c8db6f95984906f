"""The panel in headless Chromium against the real daemon: wizard, sign-in and lockout, a new carrier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.panel import PASSWORD, provision, setup_code, sign_in
from tests.e2e.box import Box
from tests.support.sipp import Sipp

pytestmark = [pytest.mark.browser, pytest.mark.sip]


def test_first_boot_wizard(page: Any, box_factory: Callable[..., Box], shot: Callable[..., Any]) -> None:
    """Claim with the code, office, carrier with a real registration test, queue and operator, finish."""
    registrar = Sipp("registrar.xml", ip="127.0.0.2", keys={"auth_user": "callbox", "auth_pass": "s3cret!"},
                     timeout=60)
    with registrar:
        box = box_factory("")
        base = f"http://127.0.0.1:{box.http_port}"
        page.goto(base + "/trunks")
        assert page.url.endswith("/setup")  # nothing else is reachable
        shot(page, "1-claim")
        page.fill("#f-code", "WRON-GCOD-E123")
        page.fill("#f-password", PASSWORD)
        page.fill("#f-password_confirm", PASSWORD)
        page.get_by_role("button", name="Claim the box").click()
        assert "not the set-up code" in page.inner_text("#e-code")
        page.fill("#f-code", setup_code(box).lower())
        page.fill("#f-password", PASSWORD)
        page.fill("#f-password_confirm", PASSWORD)
        page.get_by_role("button", name="Claim the box").click()
        page.wait_for_url("**/setup?step=office")
        page.fill("#f-box_name", "Front desk")
        page.select_option("#f-timezone", "Europe/Berlin")
        shot(page, "2-office")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_url("**/setup?step=carrier")
        page.fill("#f-name", "carrier-reg")
        page.fill("#f-host", registrar.address)
        page.fill("#f-username", "callbox")
        page.fill("#f-password", "s3cret!")
        page.fill("#f-realm", "carrier.test")
        page.get_by_role("button", name="Save carrier").click()
        page.wait_for_selector("text=Carrier carrier-reg saved")
        page.click("#test-registration")
        page.wait_for_selector("#test-outcome.success", timeout=20000)
        assert "Registered" in page.inner_text("#test-outcome")
        shot(page, "3-carrier-registered")
        page.get_by_role("link", name="Continue").click()
        page.fill("#f-op-0-name", "Anna")
        page.fill("#f-op-0-extension", "101")
        page.fill("#f-op-0-seat", "sip:101@127.0.0.1:5999")
        shot(page, "4-queue")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_url("**/setup?step=finish")
        page.get_by_role("button", name="Finish set-up").click()
        page.wait_for_selector("h1:text('Dashboard')")
        page.wait_for_selector("#operators >> text=Anna")
        shot(page, "5-dashboard")
        assert page.title().endswith("Front desk")
    assert [r["name"] for r in box.rows("SELECT name FROM trunk")] == ["carrier-reg"]
    assert [r["name"] for r in box.rows("SELECT name FROM queue")] == ["support"]
    assert box.rows("SELECT role FROM panel_user")[0]["role"] == "admin"
    assert not (box.data / "setup-code").exists()


def test_sign_in_wrong_right_and_lockout(page: Any, box_factory: Callable[..., Box],
                                         shot: Callable[..., Any]) -> None:
    """A wrong password says so; the right one opens the dashboard; five wrong ones lock the name out."""
    box = box_factory("")
    provision(box)
    sign_in(page, box, password="not the password")
    assert "Wrong user name or password" in page.inner_text("#login-error")
    shot(page, "1-wrong")
    sign_in(page, box)
    page.wait_for_selector("h1:text('Dashboard')")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("#login-form")
    for attempt in range(5):
        sign_in(page, box, password=f"guess number {attempt}")
    assert "locked" in page.inner_text("#login-error")
    sign_in(page, box)  # the right password, but locked
    assert "locked" in page.inner_text("#login-error")
    shot(page, "2-locked")
    assert page.context.cookies() and not any(c["name"] == "callbox_session" for c in page.context.cookies())


def test_add_a_carrier(page: Any, box_factory: Callable[..., Box], shot: Callable[..., Any]) -> None:
    """Errors next to the fields, nothing saved; then saved, listed and loaded by the running box."""
    box = box_factory("")
    provision(box)
    sign_in(page, box)
    page.wait_for_selector("h1:text('Dashboard')")
    page.click(".sidebar >> text=Carriers")
    page.get_by_role("link", name="Add carrier").click()
    page.fill("#f-name", "carrier-b")
    page.select_option("#f-kind", "ip")
    page.click("#trunk-form button[type=submit]")
    assert "required" in page.inner_text("#e-host")
    shot(page, "1-error")
    assert box.rows("SELECT * FROM trunk") == []
    page.fill("#f-host", "127.0.0.9")
    page.fill("#f-allowed_sources", "127.0.0.0/29")
    page.click("#trunk-form button[type=submit]")
    page.wait_for_selector("h1:text('Carrier carrier-b')")
    page.click("text=← All carriers")
    page.wait_for_selector("#trunk-table >> text=carrier-b")
    shot(page, "2-list")
    trunks = box.wait_for(lambda: [t for t in box.healthz()["trunks"] if t["name"] == "carrier-b"],
                          what="the running box to load the new carrier")
    assert trunks[0]["kind"] == "ip"
