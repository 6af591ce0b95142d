"""The status page's charts: a database's backup runs over time as inline SVG. Pure.

Drawn on the server, styled by the page's own CSS (its classes), so a chart follows
the page into dark mode and scales to any width (a ``viewBox`` keeping its proportions,
so its text is never squeezed). A run dated in the future, or far older than all the
others (as 0001-01-01), is not charted: it would squash the real runs into a line. Every
text is escaped; nothing refers to anything outside the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape

from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.monitoring.page import RunPoint
from pg_backup_manager.domain.pitr.model import Window
from pg_backup_manager.entrypoints.rendering.documents import time

WIDTH, HEIGHT = 400, 150
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 12, 24  # margins: the axis labels
# A run more than this after now is not charted (as ``status`` ignores such backups).
_FUTURE = timedelta(minutes=5)
# The oldest run is not charted while the gap to the next one is this many times longer
# than the span of all the others: a date far from the rest, not a run worth the axis.
_OUTLIER = 10
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
    points = charted(points, now=now)
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
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
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


def charted(points: Sequence[RunPoint], *, now: datetime) -> list[RunPoint]:
    """Return the ``points`` a chart draws, oldest first: none dated more than 5 minutes
    after ``now``, and not the oldest while it lies far before all the others."""
    kept = sorted((p for p in points if p.at <= now + _FUTURE), key=lambda p: p.at)
    while len(kept) >= 3 and kept[1].at - kept[0].at > _OUTLIER * (kept[-1].at - kept[1].at):
        kept.pop(0)
    return kept


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
    return (time(at) or "").replace("T", " ")[:16] + "Z"


def size_chart(points: Sequence[RunPoint], *, now: datetime, windows: Sequence[Window]) -> str:
    """Return the chart of the size of each backup made, failures and windows marked."""
    return chart(
        "backup size",
        points,
        lambda p: None if p.size_bytes is None else float(p.size_bytes),
        _bytes,
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


def _bytes(amount: float) -> str:
    """Return ``amount`` bytes in a few characters: ``512 B``, ``1.5 KiB``, ``730 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}" if unit != "B" and amount < 10 else f"{amount:.0f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB" if amount < 10 else f"{amount:.0f} TiB"


def _seconds(amount: float) -> str:
    if amount >= 120:
        return f"{amount / 60:.0f} min"
    return f"{amount:.1f} s" if amount < 10 else f"{amount:.0f} s"
