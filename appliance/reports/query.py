"""Filters shared by the reports: a period of office-local days, paging, and CSV lines."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from appliance.forms import Form

T = TypeVar("T")
PER_PAGE = 50


@dataclasses.dataclass
class Page(Generic[T]):
    """One page of results with the total count."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def parse_day(form: Form, name: str) -> date | None:
    """A YYYY-MM-DD date field (empty means none)."""
    text = form.text(name, max_length=10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        form.error(name, "Write the date as YYYY-MM-DD.")
        return None


def period(since: date | None, until: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The instants that start `since` and end `until` (inclusive) in the office's time zone."""
    start = datetime.combine(since, time.min, tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tz) if until else None
    return start, end


def page_number(form: Form) -> int:
    """The page asked for (1 when absent)."""
    return form.integer("page", default=1, low=1, high=100000)


def params(query: Any, names: Iterable[str]) -> dict[str, str]:
    """A query object's filled-in fields as URL parameters (for paging and export links)."""
    out = {}
    for name in names:
        value = getattr(query, name)
        if value not in (None, "", 0):
            out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


def _safe(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    risky = text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not text[1:].replace(".", "").isdigit())
    return "'" + text if risky and text else text


def csv_line(values: Iterable[object]) -> str:
    """One CSV line (RFC 4180 quoting, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_safe(v) for v in values])
    return buffer.getvalue()


def local(value: datetime | None, tz: ZoneInfo) -> str:
    """An instant as office-local 'YYYY-MM-DD HH:MM:SS' (empty for none)."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def form_of(data: Mapping[str, Any]) -> Form:
    """A Form over query parameters."""
    return Form(data)
