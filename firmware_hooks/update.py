"""Updates: switch to another release, check it comes up healthy, else go back to the one before.

Releases live side by side in `<prefix>/releases/<id>/` (each with its own virtualenv) and the
symlink `<prefix>/current` names the one that runs, so switching is one atomic rename and the
previous release stays on disk. The new release migrates the database when it starts; since an
older release cannot read a newer schema, a failed update also puts back the database copy
taken before the switch.

    pre-update   back up the database, remember the release that runs
    switch ID    point `current` at release ID
    post-update  restart, wait for /healthz; if it is not healthy in time, roll back
    update ID    all three
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from firmware_hooks.layout import Layout

log = logging.getLogger(__name__)
STATE = ".update-state.json"
KEEP_BACKUPS = 3


class UpdateFailed(RuntimeError):
    """The new release did not come up healthy; the box was rolled back."""


def current_release(layout: Layout) -> str | None:
    """The id of the release `current` points at."""
    link = layout.prefix / "current"
    return Path(os.readlink(link)).name if link.is_symlink() else None


def switch(layout: Layout, release: str) -> None:
    """Point `current` at `releases/<release>` with one rename."""
    if not (layout.prefix / "releases" / release).is_dir():
        raise FileNotFoundError(f"no release {release} in {layout.prefix / 'releases'}")
    tmp = layout.prefix / ".current.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("releases") / release)
    os.replace(tmp, layout.prefix / "current")


def pre_update(layout: Layout) -> dict[str, str | None]:
    """Back up the database (SQLite's online backup) and record the running release."""
    db = layout.data / "callbox.sqlite3"
    backup: Path | None = None
    if db.exists():
        backups = layout.data / "backups"
        backups.mkdir(exist_ok=True, mode=0o700)
        backup = backups / f"pre-update-{time.strftime('%Y%m%dT%H%M%S')}.sqlite3"
        with sqlite3.connect(db) as source, sqlite3.connect(backup) as target:
            source.backup(target)
        os.chown(backup, db.stat().st_uid, db.stat().st_gid)
        for old in sorted(backups.glob("pre-update-*.sqlite3"))[:-KEEP_BACKUPS]:
            old.unlink()
    state = {"previous": current_release(layout), "backup": str(backup) if backup else None}
    (layout.data / STATE).write_text(json.dumps(state))
    return state


def post_update(layout: Layout, timeout: float = 90.0) -> None:
    """Restart and wait for health; on failure roll back to the recorded release and raise UpdateFailed."""
    _service(layout, "restart")
    if healthy(layout, timeout):
        log.info("release %s is healthy", current_release(layout))
        return
    state = json.loads((layout.data / STATE).read_text())
    failed = current_release(layout)
    log.error("release %s did not come up healthy in %.0f s: rolling back to %s", failed, timeout,
              state["previous"])
    _service(layout, "stop")
    if state["previous"]:
        switch(layout, state["previous"])
    if state["backup"]:
        db = layout.data / "callbox.sqlite3"
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        with sqlite3.connect(state["backup"]) as source, sqlite3.connect(db) as target:
            source.backup(target)
    _service(layout, "restart")
    back = healthy(layout, timeout)
    raise UpdateFailed(f"release {failed} was not healthy; rolled back to {state['previous']}"
                       + ("" if back else ", which is not healthy either"))


def update(layout: Layout, release: str, timeout: float = 90.0) -> None:
    """pre-update, switch, post-update."""
    pre_update(layout)
    switch(layout, release)
    post_update(layout, timeout)


def healthy(layout: Layout, timeout: float) -> bool:
    """Whether /healthz answers 200 with status "ok" within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(layout.values["CALLBOX_HEALTH_URL"], timeout=2) as resp:  # noqa: S310
                if resp.status == 200 and json.load(resp).get("status") == "ok":
                    return True
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def _service(layout: Layout, action: str) -> None:
    """systemctl ACTION the service, or the command in CALLBOX_<ACTION>_CMD (tests, other inits)."""
    command = os.environ.get(f"CALLBOX_{action.upper()}_CMD")
    argv = shlex.split(command) if command else ["systemctl", action, layout.values["CALLBOX_SERVICE"]]
    result = subprocess.run(argv, check=False, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        log.warning("%s: exit %d %s", " ".join(argv), result.returncode, result.stderr.strip())
