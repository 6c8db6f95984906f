"""The published JSON Schema of the configuration document (`callbox config schema`).

`appliance/config/callbox-config.schema.json` is this schema as a file, for editors and for
vendors' CI; a test keeps the two equal.
"""

from __future__ import annotations

import json
from typing import Any

from tortoise.models import Model

from appliance.acd.strategies import STRATEGIES
from appliance.config.fields import Operator, Queue, QueueMember, Seat, Trunk, properties, required

VERSION = 1
SCHEMA_ID = "https://callbox.invalid/schema/callbox-config-1.json"

_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
_DIGITS = {"type": "string", "pattern": "^[0-9A-Za-z*#+._-]{1,32}$"}
_SECONDS = {"type": "integer", "minimum": 0, "maximum": 86400}

SECRET: dict[str, Any] = {
    "description": "A secret: a reference {secret: NAME} (a file NAME in the secrets directory, or the "
                   "variable CALLBOX_SECRET_<NAME>), or the value in clear.",
    "oneOf": [
        {"type": "string", "maxLength": 255},
        {"type": "object", "additionalProperties": False, "required": ["secret"],
         "properties": {"secret": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$"}}},
    ],
}


def _entry(model: type[Model], overrides: dict[str, Any], identity: dict[str, Any]) -> dict[str, Any]:
    """An entry's schema: the model's columns (see `fields`), then the hand-written constraints."""
    props = {**identity, **properties(model), **overrides}
    return {"type": "object", "additionalProperties": False, "required": [*identity, *required(model)],
            "properties": props}


def _trunk() -> dict[str, Any]:
    return _entry(Trunk, {
        "kind": {"enum": ["registration", "ip"]},
        "host": {"type": "string", "minLength": 1, "maxLength": 255},
        "transport": {"enum": ["udp", "tcp", "tls"]},
        "password": SECRET,
        "allowed_sources": {"type": "array", "items": {"type": "string", "minLength": 1},
                            "description": "addresses or networks its INVITEs may come from"},
        "register_expiry_s": {"type": "integer", "minimum": 30, "maximum": 86400},
        "priority": {"type": "integer", "minimum": 0, "maximum": 1000},
    }, {"name": _NAME})


def _seat() -> dict[str, Any]:
    return {"oneOf": [
        {"type": "string", "pattern": "^sips?:", "description": "a SIP URI (kind sip_uri)"},
        _entry(Seat, {"kind": {"enum": ["sip_uri", "headset", "phone"]},
                      "target": {"type": "string", "minLength": 1, "maxLength": 512}}, {}),
    ]}


def _operator() -> dict[str, Any]:
    entry = _entry(Operator, {"name": {"type": "string", "minLength": 1, "maxLength": 128},
                              "seats": {"type": "array", "items": _seat()}}, {"extension": _DIGITS})
    entry["required"] = ["name", "extension"]
    return entry


def _queue() -> dict[str, Any]:
    member = {"oneOf": [_DIGITS, _entry(QueueMember, {"penalty": {"type": "integer", "minimum": 0,
                                                                  "maximum": 100}}, {"extension": _DIGITS})]}
    return _entry(Queue, {
        "strategy": {"enum": list(STRATEGIES)},
        "ring_timeout_s": {"type": "integer", "minimum": 1, "maximum": 600},
        "retry_s": _SECONDS,
        "max_wait_s": _SECONDS,
        "wait_mode": {"enum": ["music", "ringing"]},
        "members": {"type": "array", "items": member, "description": "operator extensions, in ring order"},
    }, {"name": _NAME})


DID: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["number", "queue"],
    "properties": {"number": _DIGITS, "queue": _NAME, "trunk": {"oneOf": [_NAME, {"type": "null"}]}},
}


def _list(item: dict[str, Any], what: str) -> dict[str, Any]:
    return {"type": "array", "items": item,
            "description": f"{what}; when the key is present the list is the whole truth (absent ones are "
                           "removed), when it is absent the box's are left alone"}


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a configuration document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Callbox configuration",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": VERSION},
            "settings": {"type": "object", "description": "settings an admin edits in the panel",
                         "properties": {"box_name": {"type": "string", "minLength": 1, "maxLength": 64},
                                        "timezone": {"type": "string", "minLength": 1, "maxLength": 64}},
                         "additionalProperties": False},
            "trunks": _list(_trunk(), "carrier connections"),
            "operators": _list(_operator(), "people who take calls, with their seats"),
            "queues": _list(_queue(), "call queues, members in ring order"),
            "dids": _list(DID, "dialled numbers routed to queues ('*' takes every number)"),
        },
    }


def schema_json() -> str:
    """The schema as the text of the published file."""
    return json.dumps(schema(), indent=2) + "\n"
