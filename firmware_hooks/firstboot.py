"""First boot: give this box its own secrets, set-up code, SSH host keys and host name.

An image is the same on every box, so nothing unique may be baked into it. This runs once
(`callbox-firstboot.service`, conditioned on the absence of `<data>/.provisioned`), before the
appliance and sshd start, and again after a factory reset.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

from firmware_hooks.layout import Layout, read_lines, write_private

log = logging.getLogger(__name__)

# The daemon's own alphabet (appliance/auth/setup.py): no 0/O, 1/I, read off a console by a person.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def setup_code() -> str:
    """A fresh twelve-character set-up code, shown in groups of four."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(code[i:i + 4] for i in range(0, 12, 4))


def run(layout: Layout) -> bool:
    """Provision the box once; returns False when it had been provisioned already."""
    if layout.provisioned.exists():
        log.info("already provisioned (%s exists)", layout.provisioned)
        return False
    owner = layout.owner()
    layout.data.mkdir(parents=True, exist_ok=True)
    # The daemon reads these (it runs as the service account) and deletes the code once claimed.
    write_private(layout.data / "web-secret", secrets.token_hex(32), owner)
    code = setup_code()
    write_private(layout.data / "setup-code", code + "\n", owner)
    write_private(layout.data / "device-id", str(uuid.uuid4()) + "\n", owner, 0o640)
    ssh_host_keys(layout.root)
    name = hostname(layout)
    write_private(layout.provisioned, f"{name}\n", (0, 0), 0o644)
    print(f"Callbox {name}: set-up code {code} (open http://{name}.local:8080/ to set the box up)")  # noqa: T201
    return True


def ssh_host_keys(root: Path) -> bool:
    """Fresh SSH host keys, when the box has an SSH server; False when it has none."""
    ssh_dir = root / "etc" / "ssh"
    if not (ssh_dir / "sshd_config").exists():
        return False
    for old in ssh_dir.glob("ssh_host_*"):
        old.unlink()
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise RuntimeError("sshd is installed but ssh-keygen is not")
    subprocess.run([keygen, "-A", "-f", str(root)], check=True, capture_output=True)  # noqa: S603
    return True


def hostname(layout: Layout) -> str:
    """Name the box `<prefix>-<6 hex digits>` (from its machine id) in /etc/hostname and /etc/hosts."""
    machine_id = "".join(read_lines(layout.path("/etc/machine-id"))).strip()
    known = len(machine_id) >= 6 and machine_id != "uninitialized"
    suffix = machine_id[:6] if known else secrets.token_hex(3)
    name = f"{layout.values['CALLBOX_HOSTNAME_PREFIX']}-{suffix}"
    layout.path("/etc/hostname").write_text(name + "\n")
    hosts = [line for line in read_lines(layout.path("/etc/hosts")) if not line.startswith("127.0.1.1")]
    hosts.insert(1 if hosts else 0, f"127.0.1.1\t{name}")
    layout.path("/etc/hosts").write_text("\n".join(hosts) + "\n")
    if layout.root == Path("/") and shutil.which("hostname"):
        subprocess.run(["hostname", name], check=False)  # noqa: S603, S607 - the running kernel's name too
    return name
