"""A configuration document checked against the schema and the box, turned into a `Config`.

Every error names the line of the file it is about. Nothing here touches the database: the
box's current configuration is passed in, for references to sections the document leaves out
and for secrets the document keeps by reference.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

import jsonschema

from appliance.config.model import (
    MEMBER_DEFAULTS,
    OPERATOR_DEFAULTS,
    QUEUE_DEFAULTS,
    SEAT_DEFAULTS,
    SECTIONS,
    TRUNK_DEFAULTS,
    Config,
    DidKey,
    secret_ref,
)
from appliance.config.schema import schema
from appliance.config.secrets import SecretNotFound, Secrets
from appliance.config.yamlsrc import Located
from appliance.trunks.sources import parse_networks


def _schema_errors(doc: Located) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: (doc.line(tuple(e.absolute_path)) or 0))
    if errors:
        err = errors[0]
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        path = tuple(best.absolute_path)
        hint = " (quote numbers: \"101\")" if isinstance(best.instance, int) and best.validator in (
            "type", "oneOf", "pattern") else ""
        raise doc.error(path, best.message + hint)


def _unique(doc: Located, section: str, key_of: Any) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(doc.data.get(section) or []):
        key = key_of(item)
        if key in seen:
            raise doc.error((section, i), f"{key} is given twice (first as entry {seen[key] + 1})")
        seen[key] = i


def read(doc: Located, current: Config, secrets: Secrets) -> Config:
    """Validate a parsed document and return the configuration it asks for."""
    if not isinstance(doc.data, dict):
        raise doc.error((), "the document must be a mapping with at least `version: 1`")
    _schema_errors(doc)
    data: dict[str, Any] = doc.data
    _unique(doc, "trunks", lambda t: t["name"])
    _unique(doc, "operators", lambda o: o["extension"])
    _unique(doc, "queues", lambda q: q["name"])
    _unique(doc, "dids", lambda d: (d["number"], d.get("trunk")))
    present = frozenset(s for s in SECTIONS if s in data)
    cfg = Config(present=present)
    cfg.settings = {**current.settings, **data.get("settings", {})}
    if "timezone" in data.get("settings", {}) and data["settings"]["timezone"] not in _zones():
        raise doc.error(("settings", "timezone"), f"unknown time zone {data['settings']['timezone']!r}")
    cfg.trunks = _trunks(doc, current, secrets) if "trunks" in data else current.trunks
    cfg.operators = _operators(data) if "operators" in data else current.operators
    cfg.queues = _queues(doc, cfg.operators) if "queues" in data else current.queues
    if "dids" in data:
        cfg.dids = _dids(doc, cfg)
    else:  # the database drops the DIDs of a removed queue or trunk: so does the plan
        cfg.dids = {k: v for k, v in current.dids.items()
                    if v["queue"] in cfg.queues and (k[1] is None or k[1] in cfg.trunks)}
    if "operators" in data and "queues" not in data:
        for name, queue in cfg.queues.items():
            for member in queue["members"]:
                if member["extension"] not in cfg.operators:
                    raise doc.error(("operators",), f"operator {member['extension']} is a member of queue "
                                                    f"{name}: list it, or give the queues too")
    return cfg


def _zones() -> set[str]:
    return zoneinfo.available_timezones() | {"UTC"}


def _trunks(doc: Located, current: Config, secrets: Secrets) -> dict[str, dict[str, Any]]:
    out = {}
    for i, raw in enumerate(doc.data["trunks"]):
        trunk = {**TRUNK_DEFAULTS, **{k: v for k, v in raw.items() if k != "name"}}
        if trunk["kind"] == "registration" and not trunk["username"]:
            raise doc.error(("trunks", i, "kind"), "a registration trunk needs a username")
        for j, source in enumerate(trunk["allowed_sources"]):
            try:
                parse_networks(source)
            except ValueError as err:
                raise doc.error(("trunks", i, "allowed_sources", j), str(err)) from err
        old = current.trunks.get(raw["name"], {}).get("password")
        try:
            own = secret_ref("trunks", raw["name"], "password")
            trunk["password"] = secrets.resolve(trunk["password"], own, old)
        except SecretNotFound as err:
            raise doc.error(("trunks", i, "password"), str(err)) from err
        trunk["allowed_sources"] = list(trunk["allowed_sources"])
        out[raw["name"]] = trunk
    return out


def _operators(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for raw in data["operators"]:
        seats = [{**SEAT_DEFAULTS, "kind": "sip_uri", "target": s} if isinstance(s, str)
                 else {**SEAT_DEFAULTS, **s} for s in raw.get("seats", [])]
        fields = {k: v for k, v in raw.items() if k not in ("extension", "seats")}
        out[raw["extension"]] = {**OPERATOR_DEFAULTS, **fields, "seats": seats}
    return out


def _queues(doc: Located, operators: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for i, raw in enumerate(doc.data["queues"]):
        queue = {**QUEUE_DEFAULTS, **{k: v for k, v in raw.items() if k != "name"}}
        members, seen = [], set()
        for j, member in enumerate(queue["members"]):
            entry = {**MEMBER_DEFAULTS, **({"extension": member} if isinstance(member, str) else member)}
            where = ("queues", i, "members", j)
            if entry["extension"] not in operators:
                raise doc.error(where, f"no operator with extension {entry['extension']}")
            if entry["extension"] in seen:
                raise doc.error(where, f"operator {entry['extension']} is listed twice")
            seen.add(entry["extension"])
            members.append(entry)
        queue["members"] = members
        out[raw["name"]] = queue
    return out


def _dids(doc: Located, cfg: Config) -> dict[DidKey, dict[str, Any]]:
    out: dict[DidKey, dict[str, Any]] = {}
    for i, raw in enumerate(doc.data["dids"]):
        if raw["queue"] not in cfg.queues:
            raise doc.error(("dids", i, "queue"), f"no queue named {raw['queue']}")
        trunk = raw.get("trunk")
        if trunk is not None and trunk not in cfg.trunks:
            raise doc.error(("dids", i, "trunk"), f"no trunk named {trunk}")
        out[(raw["number"], trunk)] = {"queue": raw["queue"]}
    return out
