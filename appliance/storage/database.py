"""The appliance's SQLite database: tortoise-orm set-up, pragmas and schema migrations.

``Database.open()`` brings the schema up to date with tortoise's built-in migrations (the
files in ``appliance/storage/migrations/``), then serves queries on one connection with
``journal_mode=WAL``, ``synchronous=NORMAL`` and ``foreign_keys=ON``.

After changing ``appliance/storage/models.py``, create the next migration from the repository
root and commit it with the model change::

    tortoise -c appliance.storage.database.TORTOISE_ORM makemigrations --name <what_changed>

It reads only the models and the existing migration files; no database is touched. Read the
generated file: a rename comes out as a remove plus an add unless you turn it into
``RenameField``/``RenameModel``. ``tortoise -c appliance.storage.database.TORTOISE_ORM
sqlmigrate models <name>`` prints its SQL; the next ``Database.open()`` applies it.

Two tortoise quirks to keep in mind: the first line of a model's docstring is its table
comment, so editing it yields a (no-op) migration; and SQLite migrations split DDL on ``;``,
so a ``;`` in a docstring's first line or a field ``description`` breaks the migration.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.migrations.executor import MigrationExecutor

_log = logging.getLogger(__name__)

APP_LABEL = "models"
_MODELS_MODULE = "appliance.storage.models"
_MIGRATIONS_MODULE = "appliance.storage.migrations"


def tortoise_config(file_path: str, *, foreign_keys: bool = True) -> dict[str, Any]:
    """Return the tortoise config dict for the SQLite file at ``file_path``."""
    return {
        "connections": {
            "default": {
                "engine": "tortoise.backends.sqlite",
                # Any extra credential is applied as ``PRAGMA key=value`` on connect.
                "credentials": {
                    "file_path": file_path,
                    "journal_mode": "WAL",
                    "synchronous": "NORMAL",
                    "foreign_keys": "ON" if foreign_keys else "OFF",
                },
            }
        },
        "apps": {
            APP_LABEL: {
                "models": [_MODELS_MODULE],
                "default_connection": "default",
                "migrations": _MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


#: Config for the ``tortoise`` CLI (``makemigrations`` and friends); not used at run time.
TORTOISE_ORM = tortoise_config(":memory:")


class Database:
    """The SQLite database at ``path``: open it once per process run, close it on the way out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ctx: TortoiseContext | None = None

    async def open(self) -> None:
        """Create or upgrade the schema, then make the models usable from every task."""
        if self._ctx is not None:
            raise RuntimeError(f"database {self.path} is already open")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._migrate()
        ctx = TortoiseContext()
        try:
            # Tortoise 1.x resolves models through a contextvar, which only the task calling
            # init() (and tasks it starts later) would see, while a litestar lifespan runs in
            # another task than the request handlers. So the context is current only while
            # it initialises and is then served as the process-wide fallback, which is what
            # tortoise's own RegisterTortoise enables.
            with ctx:
                await ctx.init(config=tortoise_config(str(self.path)), _enable_global_fallback=True)
                # Connect now, so a bad path fails here and the pragmas are in force.
                await ctx.db().execute_query("SELECT 1")
        except BaseException:
            await ctx.close_connections()
            raise
        self._ctx = ctx
        _log.info("Database %s open", self.path)

    async def close(self) -> None:
        """Close the connection and release the global fallback; safe to call twice."""
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            await ctx.close_connections()
            _log.info("Database %s closed", self.path)

    async def _migrate(self) -> None:
        """Apply pending migrations on a short-lived connection with foreign keys off."""
        # SQLite alters a column by copying the table and dropping the old one. With foreign
        # keys on, that DROP deletes the rows first and cascades to every referencing table
        # (a Queue change would wipe its Dids). Foreign keys cannot be toggled inside the
        # migration's transaction, hence a separate connection, checked before use.
        config = tortoise_config(str(self.path), foreign_keys=False)
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            connection = ctx.db()
            executor = MigrationExecutor(connection, config["apps"])
            plan = await executor.plan()
            if not plan:
                return
            for step in plan:
                _log.info("Applying migration %s.%s", step.migration.app_label, step.migration.name)
            await executor.migrate()
            _, violations = await connection.execute_query("PRAGMA foreign_key_check")
            if violations:
                raise IntegrityError(
                    f"migrations left {len(violations)} foreign key violations in {self.path}, "
                    f"first: {dict(violations[0])}"
                )
