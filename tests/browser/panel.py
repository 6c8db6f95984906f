"""Driving a real box's panel: the set-up code, provisioning an admin over HTTP, signing in."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.box import Box

PASSWORD = "correct horse battery"


def setup_code(box: Box) -> str:
    """The code the box wrote for its owner (and logged)."""
    path = box.data / "setup-code"
    return box.wait_for(lambda: path.exists() and path.read_text().strip(), what="the set-up code file")


def provision(box: Box, username: str = "admin") -> None:
    """Claim the box and finish the wizard over HTTP, as the admin would in a browser."""
    with httpx.Client(base_url=f"http://127.0.0.1:{box.http_port}", timeout=10) as http:
        http.get("/setup")
        token = http.cookies["callbox_csrf"]
        claim = http.post("/setup/claim", data={"code": setup_code(box), "username": username, "password": PASSWORD,
                                                "password_confirm": PASSWORD, "_csrf_token": token})
        assert claim.status_code == 303, claim.text
        assert http.post("/setup/finish", data={"_csrf_token": token}).status_code == 303


def sign_in(page: Any, box: Box, username: str = "admin", password: str = PASSWORD) -> None:
    """Sign in through the login form."""
    page.goto(f"http://127.0.0.1:{box.http_port}/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button[type=submit]")
