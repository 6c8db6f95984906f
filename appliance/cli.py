"""The `callbox` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance import __version__
from appliance.errors import CallboxError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callbox", description="Callbox telephony appliance")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $CALLBOX_CONFIG")
    parser.add_argument("--version", action="version", version=f"callbox {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the appliance: SIP engine, queues, web panel and API")
    load = sub.add_parser("load", help="create or update trunks, queues, operators and DIDs from a TOML file")
    load.add_argument("file", type=Path)
    sub.add_parser("settings", help="print the settings in effect")
    from appliance.config.command import add_parser as add_config_parser

    add_config_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `callbox` console script."""
    args = _parser().parse_args(argv)
    from appliance.settings import Settings

    try:
        settings = Settings.load(args.config)
        if args.command == "run":
            from appliance import daemon, logs

            logs.setup(settings.log.level)
            daemon.run(settings)
        elif args.command == "load":
            from appliance.config.load import load_file

            print(load_file(settings, args.file))  # noqa: T201 - the command's output
        elif args.command == "settings":
            print(settings)  # noqa: T201 - the command's output
        elif args.command == "config":
            from appliance.config.command import run as run_config

            print(run_config(settings, args))  # noqa: T201 - the command's output
    except CallboxError as err:
        print(f"callbox: {err}", file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
