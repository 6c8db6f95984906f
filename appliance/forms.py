"""Form input from people: field parsing with per-field errors in the user's words.

Services validate a whole submission first and raise `FieldErrors` naming every bad field, so
the panel can show each message next to its field and the API can return them as one 422;
nothing is written unless every field is good.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from appliance.errors import UserError


class FieldErrors(UserError):
    """One or more fields of a submission are wrong; `errors` maps field name to message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Form:
    """Reads fields from a mapping, collecting an error per bad field instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> Any:
        """The value as given (None when absent)."""
        return self.data.get(name)

    def text(self, name: str, *, required: bool = False, max_length: int = 255, default: str = "",
             label: str = "This") -> str:
        """A stripped string."""
        value = self.data.get(name)
        text = default if value is None else str(value).strip()
        if required and not text:
            self.errors[name] = f"{label} is required."
        elif len(text) > max_length:
            self.errors[name] = f"Use at most {max_length} characters."
        return text

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        """A whole number within [low, high]."""
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            self.errors[name] = "Enter a whole number."
            return default
        if isinstance(number, bool) or not low <= number <= high:
            self.errors[name] = f"Enter a number from {low} to {high}."
            return default
        return number

    def choice(self, name: str, choices: Iterable[str], *, default: str) -> str:
        """One of a fixed set of values."""
        options = list(choices)
        value = self.data.get(name)
        text = default if value in (None, "") else str(value)
        if text not in options:
            self.errors[name] = f"Choose one of: {', '.join(options)}."
            return default
        return text

    def flag(self, name: str, *, default: bool) -> bool:
        """A checkbox or a JSON boolean (an absent checkbox in a posted form means off)."""
        value = self.data.get(name, default)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "on", "yes")

    def items(self, name: str) -> list[str]:
        """A list given as a JSON array or as comma/newline-separated text."""
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return [part.strip() for part in str(value).replace("\n", ",").split(",") if part.strip()]

    def error(self, name: str, message: str) -> None:
        """Add an error found by a rule that spans fields (keeps the first error of a field)."""
        self.errors.setdefault(name, message)

    def check(self) -> None:
        """Raise `FieldErrors` if any field was wrong."""
        if self.errors:
            raise FieldErrors(self.errors)
