"""The status page's charts: a database's backup runs over time as inline SVG. Pure.

Drawn on the server, styled by the page's own CSS (its classes), so a chart follows
the page into dark mode and scales to any width (a ``viewBox``, no fixed size). Every
text is escaped; nothing refers to anything outside the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape

from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.monitoring.page import RunPoint
from pg_backup_manager.domain.pitr.model import Window
from pg_backup_manager.entrypoints.rendering.backups import size
from pg_backup_manager.entrypoints.rendering.documents import time

WIDTH, HEIGHT = 600, 150
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 12, 24  # margins: the axis labels
# The span a chart shows when it has a single moment to show.
_LEAST_SPAN = timedelta(hours=1)
# The characters of an error (or any text from outside) the page shows, then "…".
SHOWN_CHARACTERS = 300
# How many failures of a chart, the newest, have their error in their tooltip.
EXPLAINED_FAILURES = 20


def shown(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """Return ``text`` as the page shows it, HTML-escaped: each character that does not
    print (a control character, a bidirectional override) written as the commands write
    it (``\\x1b``, ``\\u202e``), and only its first ``limit`` characters, then ``…``."""
    said = printable(text)
    return escape(said if len(said) <= limit else said[:limit] + "…")


def chart(
    title: str,
    points: Sequence[RunPoint],
    value: Callable[[RunPoint], float | None],
    label: Callable[[float], str],
    *,
    now: datetime,
    windows: Sequence[Window] = (),
) -> str:
    """Return one chart of ``points`` (oldest first) from the first of them (or of
    ``windows``) to ``now``: ``value`` of each success joined by a line, each failure a
    mark at the foot with its error as its tooltip, each recoverable window a band;
    ``label`` writes a value on the axis."""
    values = [(p, v) for p in points if not p.failed and (v := value(p)) is not None]
    starts = [p.at for p in points] + [w.start_at for w in windows]
    start = min(starts, default=now - _LEAST_SPAN)
    end = max([now, *(p.at for p in points)])
    if end - start < _LEAST_SPAN:
        start = end - _LEAST_SPAN
    span = (end - start).total_seconds()
    top = max((v for _, v in values), default=0.0) or 1.0

    def x(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span

    def y(amount: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * amount / top

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="none">',
        f"<title>{escape(title)}</title>",
    ]
    for window in windows:
        left, right = x(max(window.start_at, start)), x(min(window.end_at, end))
        parts.append(
            f'<rect class="window" x="{left:.1f}" y="{TOP}" width="{max(right - left, 1):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}"><title>recoverable '
            f"{escape(time(window.start_at) or '')} to {escape(time(window.end_at) or '')}"
            "</title></rect>"
        )
    parts += _axes(start, end, top if values else None, label)
    if len(values) > 1:
        line = " ".join(f"{x(p.at):.1f},{y(v):.1f}" for p, v in values)
        parts.append(f'<polyline class="line" points="{line}"/>')
    for point, amount in values:
        parts.append(
            f'<circle class="dot" cx="{x(point.at):.1f}" cy="{y(amount):.1f}" r="2.5">'
            f"<title>{escape(time(point.at) or '')}: {escape(label(amount))}</title></circle>"
        )
    failures = [point for point in points if point.failed]
    for index, point in enumerate(failures):
        at = x(point.at)
        said = "failed"
        if index >= len(failures) - EXPLAINED_FAILURES:
            said += f": {shown(point.error or '')}"
        parts.append(
            f'<path class="failure" d="M{at - 4:.1f},{HEIGHT - BOTTOM} l4,-8 l4,8 z">'
            f"<title>{escape(time(point.at) or '')} {said}</title></path>"
        )
    if not points:
        parts.append(
            f'<text class="empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" '
            'text-anchor="middle">no backup run yet</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axes(
    start: datetime, end: datetime, top: float | None, label: Callable[[float], str]
) -> list[str]:
    """Return the frame, the value axis (0 and ``top``; nothing without a value) and the
    time axis (its ends)."""
    foot = HEIGHT - BOTTOM
    ticks = [] if top is None else [(TOP + 8, label(top)), (foot, label(0))]
    return [
        f'<path class="axis" d="M{LEFT},{TOP} V{foot} H{WIDTH - RIGHT}"/>',
        *(
            f'<text class="tick" x="{LEFT - 4}" y="{at}" text-anchor="end">{escape(said)}</text>'
            for at, said in ticks
        ),
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{escape(_day(start))}</text>',
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{escape(_day(end))}</text>",
    ]


def _day(at: datetime) -> str:
    return (time(at) or "").replace("T", " ").removesuffix("Z")[:16] + " UTC"


def size_chart(points: Sequence[RunPoint], *, now: datetime, windows: Sequence[Window]) -> str:
    """Return the chart of the size of each backup made, failures and windows marked."""
    return chart(
        "backup size",
        points,
        lambda p: None if p.size_bytes is None else float(p.size_bytes),
        lambda amount: size(int(amount)),
        now=now,
        windows=windows,
    )


def duration_chart(points: Sequence[RunPoint], *, now: datetime, windows: Sequence[Window]) -> str:
    """Return the chart of how long each backup run took, failures and windows marked."""
    return chart(
        "backup duration",
        points,
        lambda p: p.seconds,
        _seconds,
        now=now,
        windows=windows,
    )


def _seconds(amount: float) -> str:
    if amount >= 120:
        return f"{amount / 60:.0f} min"
    return f"{amount:.1f} s" if amount < 10 else f"{amount:.0f} s"
