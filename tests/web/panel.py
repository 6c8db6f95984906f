"""Helpers for panel tests: forms with CSRF, claiming the box, reading field errors."""

from __future__ import annotations

import re
from typing import Any

import httpx

from appliance.auth import Auth

PASSWORD = "correct horse battery"


def csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token of this browser (from its cookie, as the page's hidden field carries it)."""
    return str(client.cookies["callbox_csrf"])


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
    """Submit a form the way the panel does: with the CSRF field (a GET first fetches the cookie)."""
    if "callbox_csrf" not in client.cookies:
        await client.get("/login")
    return await client.post(url, data={**data, "_csrf_token": csrf(client)}, **kw)


async def claim(client: httpx.AsyncClient, auth: Auth, username: str = "admin") -> httpx.Response:
    """Claim the box with the set-up code as its first admin."""
    code = await auth.first_boot.prepare()
    assert code
    await client.get("/setup")
    return await post_form(client, "/setup/claim", {"code": code, "username": username, "password": PASSWORD,
                                                    "password_confirm": PASSWORD})


def field_error(html: str, name: str) -> str:
    """The error message shown next to a form field."""
    match = re.search(rf'id="e-{re.escape(name)}">([^<]*)<', html)
    return match.group(1) if match else ""
