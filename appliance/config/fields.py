"""Which columns of a configuration model the document carries, read off the model itself.

A field added to `Trunk`, `Queue`, `Operator`, `Seat` or `QueueMember` (with a default) is
exported, applied and described by the schema without touching this package: the document
stays lossless as the models grow. Identity and bookkeeping columns are left out.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from appliance.storage import Operator, Queue, QueueMember, Seat, Trunk

_JSON_TYPES: tuple[tuple[type[fields.Field[Any]], str], ...] = (
    (fields.BooleanField, "boolean"),
    (fields.IntField, "integer"),
    (fields.BigIntField, "integer"),
    (fields.SmallIntField, "integer"),
    (fields.FloatField, "number"),
    (fields.CharField, "string"),
    (fields.TextField, "string"),
)
# Not configuration: identities (the entry's key), order (the list's order) and bookkeeping.
_SKIP = {"id", "created_at", "name", "extension", "position"}


def _json_type(field: fields.Field[Any]) -> str | None:
    for kind, name in _JSON_TYPES:
        if isinstance(field, kind):
            return name
    return None


def columns(model: type[Model]) -> list[str]:
    """The scalar columns the document carries for `model`, in the model's order."""
    skip = (set(_SKIP) - ({"name"} if model is Operator else set())
            | {f"{fk}_id" for fk in model._meta.fk_fields})  # foreign keys' columns, once tortoise is up
    return [name for name, field in model._meta.fields_map.items()
            if name not in skip and _json_type(field) is not None and not field.pk]


def defaults(model: type[Model]) -> dict[str, Any]:
    """Each carried column's default (columns without one must be given)."""
    out = {}
    for name in columns(model):
        default = model._meta.fields_map[name].default
        if default is not None and not callable(default):
            out[name] = default
    return out


def required(model: type[Model]) -> list[str]:
    """Carried columns with no default."""
    return [name for name in columns(model) if name not in defaults(model)]


def properties(model: type[Model]) -> dict[str, dict[str, Any]]:
    """JSON Schema of each carried column, from its type and length."""
    out: dict[str, dict[str, Any]] = {}
    for name in columns(model):
        field = model._meta.fields_map[name]
        schema: dict[str, Any] = {"type": _json_type(field)}
        if isinstance(field, fields.CharField):
            schema["maxLength"] = field.max_length
        if field.description:
            schema["description"] = field.description
        out[name] = schema
    return out


__all__ = ["Operator", "Queue", "QueueMember", "Seat", "Trunk", "columns", "defaults", "properties",
           "required"]
