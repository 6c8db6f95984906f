"""When a failed attempt moves on to the next trunk, and when the answer is the callee's own.

A carrier's 408, 5xx or 6xx (configurable per route) means "this carrier could not do it": try
the next one. Busy (486, 600), a wrong number (404, 484) and a cancelled call (487) are the
callee's answer or ours, the same through every carrier: they are passed back, never failed over,
whatever the configuration says.
"""

from __future__ import annotations

import dataclasses

NEVER = frozenset({404, 484, 486, 487, 600})
DEFAULT_CODES = "408,5xx,6xx"


def parse_codes(text: str) -> frozenset[int]:
    """`"408,5xx,6xx"` (codes and classes) into the set of codes; ValueError naming a bad entry."""
    codes: set[int] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        if len(item) == 3 and item[0] in "3456" and item[1:] == "xx":
            first = int(item[0]) * 100
            codes.update(range(first, first + 100))
        elif item.isdigit() and 300 <= int(item) <= 699:
            codes.add(int(item))
        else:
            raise ValueError(f"not a SIP failure code or class: {item!r} (e.g. 408, 503, 5xx)")
    return frozenset(codes)


@dataclasses.dataclass(frozen=True)
class FailoverPolicy:
    """The final responses after which a call tries the next trunk."""

    codes: frozenset[int] = dataclasses.field(default_factory=lambda: parse_codes(DEFAULT_CODES))

    @classmethod
    def parse(cls, text: str) -> FailoverPolicy:
        """A policy from its configured text."""
        return cls(parse_codes(text))

    def fails_over(self, code: int) -> bool:
        """Whether a final response `code` from a carrier sends the call to the next trunk."""
        return code not in NEVER and code in self.codes
