"""Time spans as sorted lists of (start, end) seconds: union, clip, subtract, total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[float, float]


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans merged into sorted, disjoint ones (empty spans dropped)."""
    merged: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def clip(spans: Iterable[Span], lo: float, hi: float) -> list[Span]:
    """The parts of disjoint spans that lie within [lo, hi)."""
    return [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """Disjoint sorted `spans` without the disjoint sorted `holes`."""
    result: list[Span] = []
    i = 0
    for a, b in spans:
        while i < len(holes) and holes[i][1] <= a:
            i += 1
        j, start = i, a
        while j < len(holes) and holes[j][0] < b:
            if holes[j][0] > start:
                result.append((start, holes[j][0]))
            start = max(start, holes[j][1])
            j += 1
        if start < b:
            result.append((start, b))
    return result


def subtract_each(spans: Sequence[Span], holes: Sequence[Span]) -> list[list[Span]]:
    """For each of `spans` (any order, overlaps allowed), its parts outside disjoint sorted `holes`."""
    parts: list[list[Span]] = [[] for _ in spans]
    i = 0
    # In order of start, a hole that ends before one span starts ends before every later one:
    # one pass over the holes serves all the spans.
    for k in sorted(range(len(spans)), key=lambda n: spans[n][0]):
        a, b = spans[k]
        while i < len(holes) and holes[i][1] <= a:
            i += 1
        j, start = i, a
        while j < len(holes) and holes[j][0] < b:
            if holes[j][0] > start:
                parts[k].append((start, holes[j][0]))
            start = max(start, holes[j][1])
            j += 1
        if start < b:
            parts[k].append((start, b))
    return parts


def total(spans: Iterable[Span]) -> float:
    """The summed length of disjoint spans."""
    return sum(b - a for a, b in spans)
