"""`callbox config export|apply`: the box's configuration as one YAML document, and back.

`apply` reads the box's configuration, validates the document against it, shows the
difference and, unless it is a dry run or there is none, writes it in the same transaction:
applying a file twice changes nothing the second time, and a bad file changes nothing at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import yaml
from tortoise.transactions import in_transaction

from appliance.config import document, state
from appliance.config.diff import changes
from appliance.config.model import SECRET_FIELDS, Config, secret_ref
from appliance.config.schema import VERSION
from appliance.config.secrets import Secrets
from appliance.config.yamlsrc import parse

SecretMode = Literal["ref", "clear"]
HEADER = ("# Callbox configuration (schema: appliance/config/callbox-config.schema.json,\n"
          "# or `callbox config schema`). Apply with `callbox config apply FILE [--dry-run]`.\n")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What an apply found to change, and whether it wrote it."""

    changes: list[str]
    written: bool

    def report(self, dry_run: bool) -> str:
        """The command's output: the changes, then one summary line."""
        if not self.changes:
            return "no changes"
        verb = "would change" if dry_run else "changed"
        return "\n".join([*self.changes, f"{verb} {len(self.changes)} item(s)"])


def to_document(cfg: Config, secrets: Secrets | None = None, mode: SecretMode = "ref") -> dict[str, Any]:
    """The document for a configuration; secrets become references (stored in `secrets` if given)."""

    def secret(section: str, key: str, field: str, value: str) -> Any:
        if not value or mode == "clear":
            return value
        name = secret_ref(section, key, field)
        if secrets is not None:
            secrets.store(name, value)
        return {"secret": name}

    trunks = []
    for name, trunk in cfg.trunks.items():
        entry = {"name": name, **trunk}
        for field in SECRET_FIELDS["trunks"]:
            entry[field] = secret("trunks", name, field, trunk[field])
        trunks.append(entry)
    operators = [{"name": op["name"], "extension": ext, **{k: v for k, v in op.items() if k != "name"}}
                 for ext, op in cfg.operators.items()]
    queues = [{"name": name, **queue} for name, queue in cfg.queues.items()]
    dids = [{"number": number, **({"trunk": trunk} if trunk else {}), "queue": did["queue"]}
            for (number, trunk), did in cfg.dids.items()]
    return {"version": VERSION, "settings": dict(cfg.settings), "trunks": trunks, "operators": operators,
            "queues": queues, "dids": dids}


async def export(secrets: Secrets | None = None, mode: SecretMode = "ref") -> str:
    """The box's whole configuration as YAML text."""
    body: str = yaml.safe_dump(to_document(await state.read(), secrets, mode), sort_keys=False,
                          allow_unicode=True, default_flow_style=False, width=110)
    return HEADER + body


async def apply(text: str, source: str, secrets: Secrets, dry_run: bool = False) -> Outcome:
    """Validate a document against the box and bring the box to it, atomically; `dry_run` writes nothing."""
    located = parse(text, source)
    async with in_transaction():
        old = await state.read()
        new = document.read(located, old, secrets)
        found = changes(old, new)
        if found and not dry_run:
            await state.write(old, new)
    return Outcome(found, bool(found) and not dry_run)
