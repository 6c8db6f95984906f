"""Logging for the daemon: one format with the thread name, PJSIP's own log kept quieter."""

from __future__ import annotations

import logging


def setup(level: str) -> None:
    """Configure the root logger once."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s",
    )
    # PJSIP's info level is a line per transaction; warnings and errors are what an admin needs.
    native_level = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    logging.getLogger("appliance.sip.native").setLevel(native_level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
