"""Server-side SVG charts: a heat map, horizontal (stacked) bars and a daily trend.

Plain strings with a viewBox, so they scale with the page, need no script and print well. Colours
are the Okabe-Ito palette (safe for colour-blind readers); every mark has a <title> tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape, quoteattr

PALETTE = ("#0072B2", "#D55E00", "#999999", "#009E73", "#E69F00", "#56B4E9", "#CC79A7")
FONT = 'font-family="system-ui, sans-serif" font-size="12" fill="#1f2937"'
Series = tuple[str, Sequence[float | None]]


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label={quoteattr(title)} {FONT}>')
    heading = f'<text x="8" y="18" font-size="14" font-weight="600">{escape(title)}</text>'
    return "\n".join([head, f"<title>{escape(title)}</title>", heading, *body, "</svg>"])


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value))


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9 or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"


def _shade(share: float) -> str:
    """From pale grey-blue (none) to deep blue (the busiest cell)."""
    low, high = (241, 245, 249), (8, 69, 148)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_svg(grid: Sequence[Sequence[int]], rows: Sequence[str], title: str, unit: str = "calls") -> str:
    """A grid of counts, rows by columns (e.g. weekday by hour), darker where there are more."""
    cols = len(grid[0]) if grid else 0
    cell, left, top = 26, 44, 48
    peak = max((max(row) for row in grid), default=0) or 1
    body = [f'<text x="{left + c * cell + cell / 2}" y="{top - 6}" text-anchor="middle">{c:02d}</text>'
            for c in range(0, cols, 3)]
    for r, row in enumerate(grid):
        y = top + r * cell
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{escape(rows[r])}</text>')
        for c, count in enumerate(row):
            share = math.sqrt(count / peak)  # square root: quiet hours stay visible beside the peak
            body.append(f'<rect class="cell" x="{left + c * cell}" y="{y}" width="{cell - 2}" '
                        f'height="{cell - 2}" rx="3" fill="{_shade(share)}"><title>'
                        f'{escape(rows[r])} {c:02d}:00: {count} {escape(unit)}</title></rect>')
    legend_y = top + len(grid) * cell + 18
    body.append(f'<text x="{left}" y="{legend_y}">0</text>'
                f'<rect x="{left + 14}" y="{legend_y - 10}" width="60" height="12" fill="{_shade(0.0)}"/>'
                f'<rect x="{left + 74}" y="{legend_y - 10}" width="60" height="12" fill="{_shade(1.0)}"/>'
                f'<text x="{left + 140}" y="{legend_y}">{peak} {escape(unit)} in the busiest hour</text>')
    return _svg(left + cols * cell + 16, legend_y + 12, title, body)


def bar_chart_svg(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "",
                  full: float | None = None) -> str:
    """Horizontal bars, one per label, stacked by series; `full` fixes the scale (e.g. 100 %)."""
    bar, gap, left, top, width = 20, 8, 150, 52, 420
    totals = [sum((s[1][i] or 0.0) for s in series) for i in range(len(labels))]
    scale = width / (full or nice_max(max(totals, default=0.0)))
    body = _legend(series, 8, 36) if len(series) > 1 else []
    for i, label in enumerate(labels):
        y, x = top + i * (bar + gap), float(left)
        body.append(f'<text x="{left - 8}" y="{y + bar / 2 + 4}" text-anchor="end">{escape(label[:22])}</text>')
        for k, (name, values) in enumerate(series):
            value = values[i] or 0.0
            if value <= 0:
                continue
            w = value * scale
            body.append(f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                        f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)}: {escape(name)} '
                        f'{_fmt(value)}{escape(unit)}</title></rect>')
            x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y + bar / 2 + 4}">{_fmt(totals[i])}{escape(unit)}</text>')
    return _svg(left + width + 80, top + len(labels) * (bar + gap) + 8, title, body)


def _legend(series: Sequence[Series], x: int, y: int) -> list[str]:
    items = []
    for k, (name, _values) in enumerate(series):
        items.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{y}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return items


def trend_svg(title: str, days: Sequence[date], series: Sequence[Series], unit: str = "") -> str:
    """One line per series over the days, with a dot on every known value."""
    left, top, width, height = 48, 52, 560, 200
    peak = nice_max(max((v for _, vals in series for v in vals if v is not None), default=0.0))
    step = width / max(len(days) - 1, 1)
    body = _legend(series, 8, 36) if len(series) > 1 else []
    for tick in range(5):
        value, y = peak * tick / 4, top + height - height * tick / 4
        body.append(f'<line x1="{left}" x2="{left + width}" y1="{y}" y2="{y}" stroke="#e5e7eb"/>'
                    f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{_fmt(value)}{escape(unit)}</text>')
    every = max(1, math.ceil(len(days) / 8))
    body += [f'<text x="{left + i * step:.1f}" y="{top + height + 18}" text-anchor="middle">'
             f'{day.strftime("%d.%m")}</text>' for i, day in enumerate(days) if i % every == 0]
    for k, (name, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(left + i * step, top + height - height * v / peak, v, days[i])
                  for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                 f'{day.isoformat()} {escape(name)}: {_fmt(v)}{escape(unit)}</title></circle>'
                 for x, y, v, day in points]
    return _svg(left + width + 24, top + height + 30, title, body)
