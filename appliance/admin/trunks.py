"""Carrier trunks as an admin edits them: validation, one-transaction writes, reload of the trunks only."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

from appliance.admin.reload import Reloader, Work
from appliance.errors import NotFoundError
from appliance.forms import Form
from appliance.storage import Did, Trunk
from appliance.trunks import TrunkService
from appliance.trunks.sources import parse_networks, split_host_port

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


def _host_problem(host: str) -> str | None:
    try:
        name, port = split_host_port(host)
    except ValueError:
        return "Write the port as a number, e.g. sip.carrier.example:5060."
    if not 0 < port < 65536:
        return "The port must be between 1 and 65535."
    if not (HOST.match(name) or ":" in name):
        return "Write a host name or an address, e.g. sip.carrier.example or 198.51.100.7."
    return None


class TrunkAdmin:
    """CRUD for trunks; the SIP engine is reloaded after each change."""

    def __init__(self, service: TrunkService, reloader: Reloader, routes: Work | None = None) -> None:
        self._service = service
        self._reload = reloader
        self._routes = routes  # the queue manager's load(): numbers name their trunk

    async def list(self) -> list[dict[str, Any]]:
        """Every trunk with its live status."""
        status = {s["name"]: s for s in self._service.status()}
        return [self.view(t, status.get(t.name)) for t in await Trunk.all().order_by("priority", "id")]

    async def get(self, trunk_id: int) -> Trunk:
        """One trunk row, or NotFoundError."""
        trunk = await Trunk.get_or_none(id=trunk_id)
        if trunk is None:
            raise NotFoundError(f"no trunk #{trunk_id}")
        return trunk

    def view(self, trunk: Trunk, status: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A trunk for pages and the API: no password, its live state."""
        if status is None:
            status = next((s for s in self._service.status() if s["name"] == trunk.name), None)
        fields = ("id", "name", "kind", "host", "transport", "username", "realm", "allowed_sources",
                  "register_expiry_s", "priority", "enabled")
        state = dict(status or {})
        return {**{f: getattr(trunk, f) for f in fields}, "password_set": bool(trunk.password),
                "state": state.get("state", "disabled" if not trunk.enabled else "unknown"),
                "registered": state.get("registered"), "last_code": state.get("last_code", 0),
                "last_error": state.get("last_error", ""), "status": state}

    async def validate(self, data: Mapping[str, Any], current: Trunk | None = None) -> dict[str, Any]:
        """Cleaned fields, or FieldErrors naming each bad one."""
        form = Form(data)
        name = form.text("name", required=True, max_length=64, label="The name")
        if name and not NAME.match(name):
            form.error("name", "Use letters, digits, dots, dashes and underscores, starting with a letter or digit.")
        elif name and await Trunk.filter(name=name).exclude(id=current.id if current else 0).exists():
            form.error("name", "Another trunk has this name.")
        kind = form.choice("kind", ("registration", "ip"), default=current.kind if current else "registration")
        host = form.text("host", required=True, label="The carrier's host")
        if host and (problem := _host_problem(host)):
            form.error("host", problem)
        cleaned: dict[str, Any] = {
            "name": name, "kind": kind, "host": host,
            "transport": form.choice("transport", ("udp", "tcp"), default="udp"),
            "username": form.text("username", max_length=128),
            "realm": form.text("realm", max_length=255, default="*") or "*",
            "allowed_sources": form.text("allowed_sources", max_length=1024),
            "register_expiry_s": form.integer("register_expiry_s", default=300, low=60, high=86400),
            "priority": form.integer("priority", default=10, low=0, high=1000),
            "enabled": form.flag("enabled", default=True),
        }
        password = form.text("password", max_length=255)
        if password or current is None:
            cleaned["password"] = password
        if kind == "registration" and not cleaned["username"]:
            form.error("username", "A registration trunk needs the user name the carrier gave you.")
        if kind == "registration" and not password and not (current and current.password):
            form.error("password", "A registration trunk needs the password the carrier gave you.")
        try:
            parse_networks(cleaned["allowed_sources"])
        except ValueError as err:
            form.error("allowed_sources", f"{err}: write addresses or networks like 198.51.100.0/28, "
                                          "separated by commas.")
        form.check()
        return cleaned

    async def create(self, data: Mapping[str, Any]) -> Trunk:
        """Validate, store, reload the trunks."""
        trunk = await Trunk.create(**await self.validate(data))
        await self._reload.run(self._service.load)
        return trunk

    async def update(self, trunk_id: int, data: Mapping[str, Any]) -> Trunk:
        """Validate, store, reload the trunks (and the routes when the name changed)."""
        trunk = await self.get(trunk_id)
        cleaned = await self.validate(data, trunk)
        renamed = cleaned["name"] != trunk.name
        await trunk.update_from_dict(cleaned).save()
        await self._reload.run(self._service.load)
        if renamed and self._routes is not None:
            await self._reload.run(self._routes)
        return trunk

    async def delete(self, trunk_id: int) -> None:
        """Remove a trunk (its own numbers go with it), reload the trunks and the routes."""
        trunk = await self.get(trunk_id)
        had_routes = await Did.filter(trunk=trunk).exists()
        await trunk.delete()
        await self._reload.run(self._service.load)
        if had_routes and self._routes is not None:
            await self._reload.run(self._routes)

    async def test_registration(self, trunk_id: int, wait_s: float = 15.0) -> dict[str, Any]:
        """Wait (bounded) for the carrier's answer to this trunk's REGISTER; returns the trunk's view."""
        trunk = await self.get(trunk_id)
        if trunk.kind != "registration" or not trunk.enabled:
            return {**self.view(trunk), "pending": False}
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            view = self.view(trunk)
            if view["registered"] or view["last_code"]:
                return {**view, "pending": False}
            await asyncio.sleep(0.25)
        return {**self.view(trunk), "pending": True}
