"""Call recordings: search by period, number and operator; the file of one, only under its root."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from appliance.errors import NotFoundError
from appliance.reports.query import PER_PAGE, Page, form_of, page_number, parse_day, period
from appliance.storage import Recording


@dataclasses.dataclass
class RecordingQuery:
    """What the user searches recordings by."""

    since: date | None = None
    until: date | None = None
    number: str = ""
    operator: str = ""
    page: int = 1

    FIELDS = ("since", "until", "number", "operator")

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> RecordingQuery:
        """From query parameters; FieldErrors for values that cannot be read."""
        form = form_of(data)
        query = cls(parse_day(form, "since"), parse_day(form, "until"), form.text("number", max_length=64),
                    form.text("operator", max_length=128), page_number(form))
        form.check()
        return query


class RecordingLibrary:
    """Finds recordings and their files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def search(self, query: RecordingQuery, tz: ZoneInfo) -> Page[Recording]:
        """One page of recordings (with their calls), newest first."""
        start, end = period(query.since, query.until, tz)
        qs = Recording.all()
        if start:
            qs = qs.filter(call__started_at__gte=start)
        if end:
            qs = qs.filter(call__started_at__lt=end)
        if query.number:
            qs = qs.filter(Q(call__caller__contains=query.number) | Q(call__did__contains=query.number))
        if query.operator:
            qs = qs.filter(call__operator__icontains=query.operator)
        total = await qs.count()
        rows = await qs.order_by("-created_at", "-id").offset((query.page - 1) * PER_PAGE).limit(PER_PAGE) \
            .prefetch_related("call")
        return Page(list(rows), total, query.page, PER_PAGE)

    async def file(self, recording_id: int) -> tuple[Recording, Path]:
        """A recording and its file, which must exist inside the recordings directory."""
        recording = await Recording.get_or_none(id=recording_id).prefetch_related("call")
        if recording is None:
            raise NotFoundError(f"no recording #{recording_id}")
        path = Path(recording.path).resolve()  # noqa: ASYNC240 - a stat of a local file
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise NotFoundError(f"the file of recording #{recording_id} is missing")
        return recording, path
