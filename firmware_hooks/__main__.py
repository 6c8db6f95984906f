"""`python3 -m firmware_hooks [--root DIR] HOOK`: the hooks the OS units and the updater run."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from firmware_hooks import firstboot, reset, update, watchdog
from firmware_hooks.layout import Layout


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m firmware_hooks", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/"), help="the box's root directory (default: /)")
    hooks = parser.add_subparsers(dest="hook", required=True, metavar="HOOK")
    hooks.add_parser("firstboot", help="unique secrets, set-up code, SSH host keys, host name (once)")
    factory = hooks.add_parser("factory-reset", help="back to the first-boot state")
    factory.add_argument("--keep-recordings", action="store_true")
    factory.add_argument("--if-requested", action="store_true",
                         help="only when the flag file or the kernel command line asks (the unit's mode)")
    hooks.add_parser("pre-update", help="back up the database, remember the running release")
    switch = hooks.add_parser("switch", help="point `current` at another release")
    switch.add_argument("release")
    post = hooks.add_parser("post-update", help="restart, check health, roll back if unhealthy")
    post.add_argument("--timeout", type=float, default=90.0)
    full = hooks.add_parser("update", help="pre-update, switch and post-update")
    full.add_argument("release")
    full.add_argument("--timeout", type=float, default=90.0)
    dog = hooks.add_parser("watchdog", help="arm the hardware watchdog")
    dog.add_argument("--runtime-sec", type=int, default=15)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one hook; exit 1 when an update was rolled back."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    layout = Layout.load(args.root)
    out = sys.stdout
    if args.hook == "firstboot":
        out.write("provisioned\n" if firstboot.run(layout) else "already provisioned\n")
    elif args.hook == "factory-reset":
        asked, keep = reset.requested(layout)
        if args.if_requested and not asked:
            out.write("no factory reset requested\n")
            return 0
        removed = reset.run(layout, keep or args.keep_recordings)
        out.write(f"factory reset: removed {len(removed)} item(s)\n")
    elif args.hook == "pre-update":
        out.write(f"backed up: {update.pre_update(layout)}\n")
    elif args.hook == "switch":
        update.switch(layout, args.release)
    elif args.hook in ("post-update", "update"):
        try:
            if args.hook == "update":
                update.update(layout, args.release, args.timeout)
            else:
                update.post_update(layout, args.timeout)
        except update.UpdateFailed as err:
            out.write(f"update failed: {err}\n")
            return 1
        out.write(f"release {update.current_release(layout)} is healthy\n")
    elif args.hook == "watchdog":
        changed = watchdog.enable(layout, args.runtime_sec)
        out.write(f"changed: {', '.join(changed)}\n" if changed else "unchanged\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
