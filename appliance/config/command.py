"""The `callbox config` subcommands: export, apply [--dry-run], schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from appliance.errors import UserError
from appliance.settings import Settings

T = TypeVar("T")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `config` and its subcommands to the `callbox` parser."""
    config = sub.add_parser("config", help="export or apply the whole configuration as one YAML document")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the configuration as YAML (secrets as references)")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--secrets", choices=("ref", "clear"), default="ref",
                        help="'ref' (default): {secret: NAME} references; 'clear': the values themselves")
    export.add_argument("--secrets-dir", type=Path,
                        help="also write each secret to DIR/NAME (mode 0600), e.g. to move a box's config")
    apply = actions.add_parser("apply", help="validate a YAML document, show the changes and make them")
    apply.add_argument("file", type=Path, help="the document ('-' for standard input)")
    apply.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    apply.add_argument("--secrets-dir", type=Path, help="where {secret: NAME} is looked up "
                       "(default: $CALLBOX_SECRETS_DIR or /etc/callbox/secrets)")
    actions.add_parser("schema", help="print the JSON Schema of the document")


def run(settings: Settings, args: argparse.Namespace) -> str:
    """Carry out one `callbox config` action; returns what to print."""
    from appliance.config import service
    from appliance.config.schema import schema_json
    from appliance.config.secrets import Secrets

    if args.config_command == "schema":
        return schema_json().rstrip("\n")
    if args.config_command == "export":
        secrets = Secrets(args.secrets_dir) if args.secrets_dir else None
        text = _with_db(settings, lambda: service.export(secrets, args.secrets))
        if args.output is None:
            return text.rstrip("\n")
        args.output.write_text(text)
        return f"wrote {args.output}"
    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text()
    except OSError as err:
        raise UserError(f"cannot read {args.file}: {err.strerror}") from err
    source = "<stdin>" if str(args.file) == "-" else str(args.file)
    outcome = _with_db(settings, lambda: service.apply(text, source, Secrets(args.secrets_dir), args.dry_run))
    return outcome.report(args.dry_run)


def _with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from appliance.storage import Database

    async def main() -> T:
        db = Database(settings.data.database_path)
        await db.open()
        try:
            return await work()
        finally:
            await db.close()

    return asyncio.run(main())
