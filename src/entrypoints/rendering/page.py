"""The status page beside ``/metrics``: a :class:`PageReport` as one HTML document. Pure.

Read-only (no form, no script), self-contained (its style inline, its charts inline
SVG, its icon a ``data:`` URL: nothing is fetched from anywhere, so it works on a host
without Internet), readable in light and dark mode and at a phone's width. Every text
from outside (names, errors) is written as the commands write it (a character that does not
print as ``\x1b`` or ``\u202e``), cut after 300 characters (``…``) and escaped.
"""

from __future__ import annotations

from html import escape

from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus
from pg_backup_manager.domain.monitoring.page import DatabasePage, PageReport
from pg_backup_manager.domain.monitoring.pitr_status import PitrStatus
from pg_backup_manager.domain.pitr.windows import shown_bounds
from pg_backup_manager.entrypoints.rendering.backups import size
from pg_backup_manager.entrypoints.rendering.charts import (
    charted,
    duration_chart,
    shown,
    size_chart,
)
from pg_backup_manager.entrypoints.rendering.documents import time
from pg_backup_manager.entrypoints.rendering.pitr_status import receiver_line
from pg_backup_manager.entrypoints.rendering.status import age, faults, health, not_judged, offsite

_STYLE = """
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #57606a;
  --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --plot: #0969da; --band: #2da44e33; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --line: #30363d;
    --ok: #3fb950; --bad: #f85149; --plot: #58a6ff; --band: #3fb95033; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem; background: var(--bg); color: var(--fg);
  font: 15px/1.4 system-ui, sans-serif; overflow-wrap: break-word; }
.error { overflow-wrap: anywhere; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
p, ul { margin: .3rem 0; } ul { padding-left: 1.2rem; }
.muted, .tick { color: var(--muted); fill: var(--muted); }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
  gap: .5rem 1rem; }
figure { margin: 0; } figcaption { color: var(--muted); font-size: .85rem; }
svg.chart { width: 100%; height: auto; display: block; }
svg .axis { stroke: var(--line); fill: none; } svg .tick, svg .empty { font-size: 11px; }
svg .empty { fill: var(--muted); }
svg .line { stroke: var(--plot); fill: none; stroke-width: 1.5; }
svg .dot { fill: var(--plot); } svg .failure { fill: var(--bad); }
svg .window { fill: var(--band); }
@media (max-width: 700px) {
  thead { display: none; } table, tbody, tr, td { display: block; width: 100%; }
  tr { border-bottom: 2px solid var(--line); padding: .3rem 0; }
  td { border: 0; padding: .15rem 0; }
  td::before { content: attr(data-label) ": "; color: var(--muted); } }
"""
_COLUMNS = ("Database", "State", "Newest backup", "Last failure", "Off-site", "Recovery")


def page(report: PageReport) -> str:
    """Return the page of ``report``: ``health``'s conclusion, a row per database, then
    the charts of each database."""
    verdict = health(report.health)
    good = not any(line.err for line in verdict)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<link rel="icon" href="data:,">',
        "<title>Backups: " + ("healthy" if good else "at fault") + "</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header><h1>PostgreSQL backups</h1>",
        f'<ul id="verdict" class="{"ok" if good else "bad"}">',
        *(f"<li>{shown(line.text.removeprefix('error: '))}</li>" for line in verdict),
        "</ul>",
        f'<p class="muted">as of {escape(time(report.now) or "")}; read-only; the same '
        'as <a href="status.json">status.json</a> and <a href="metrics">metrics</a></p>',
        "</header><main>",
        '<table id="databases"><thead><tr>',
        *(f"<th>{name}</th>" for name in _COLUMNS),
        "</tr></thead><tbody>",
        *(_row(database, production=report.health.production) for database in report.databases),
        "</tbody></table>",
    ]
    if not report.databases:
        parts.append('<p class="muted">No database is configured.</p>')
    parts += [_charts(database, report) for database in report.databases]
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _row(database: DatabasePage, *, production: bool) -> str:
    status = database.status
    identifier = shown(status.database.identifier)
    cells = (
        f"<strong>{identifier}</strong>",
        _state(status, production=production),
        _newest(status),
        _failure(status, database.history_problem),
        _offsite(status),
        _recovery(status.pitr),
    )
    tds = "".join(
        f'<td data-label="{name}">{cell}</td>' for name, cell in zip(_COLUMNS, cells, strict=True)
    )
    return f'<tr class="database" data-database="{identifier}">{tds}</tr>'


def _state(status: DatabaseStatus, *, production: bool) -> str:
    # Outside production, as `health`: freshness is not judged, only what runs in any mode.
    why = faults(status, freshness=production)
    if not production and not why:
        said = '<span class="muted">not judged</span>'
    elif production and status.healthy:
        said = '<span class="ok">healthy</span>'
    else:
        said = '<span class="bad">unhealthy</span>'
    if not production:
        why.append("freshness not judged: MODE is not 'production'")
    elif not status.judged:
        why.append(f"not judged: {not_judged(status)}")
    if why:
        said += "<ul>" + "".join(f"<li>{shown(line)}</li>" for line in why) + "</ul>"
    return said


def _newest(status: DatabaseStatus) -> str:
    newest = status.newest
    if newest is None:
        return '<span class="muted">none yet</span>'
    said = (
        f"{escape(str(newest.name))}<br>{escape(age(status.newest_age))} old, "
        f"{escape(size(newest.size))}" + (", partial" if newest.partial else "")
    )
    if status.future:
        said += f"<br>{len(status.future)} dated in the future, ignored"
    return said


def _failure(status: DatabaseStatus, problem: str | None) -> str:
    failure = status.last_failure
    if problem is not None:  # as `status` warns
        return f'<span class="bad">the run history could not be read ({shown(problem)})</span>'
    if failure is None:
        return '<span class="muted">never</span>'
    said = f"{escape(time(failure.finished_at) or '')} ({escape(failure.operation.value)})"
    said += f'<br><span class="error">{shown(failure.error or "(no error recorded)")}</span>'
    if status.consecutive_failures:
        said += f'<br><span class="bad">{status.consecutive_failures} in a row</span>'
    return said


def _offsite(status: DatabaseStatus) -> str:
    if status.offsite is None:
        return '<span class="muted">not configured</span>'
    said = offsite(status.offsite).removeprefix("off-site: ")
    state, _, rest = said.partition(" ")
    css = "ok" if status.offsite.complete else "bad"
    return f'<span class="{css}">{escape(state)}</span> {shown(rest)}'


def _recovery(pitr: PitrStatus | None) -> str:
    if pitr is None:
        return '<span class="muted">off</span>'
    said = f"receiver: {shown(receiver_line(pitr))}"
    window = pitr.newest_window
    if window is None:
        said += "<br>no recoverable window yet"
    else:
        start, end = shown_bounds(window)
        said += f"<br>recoverable {escape(start)} to {escape(end)}"
    css = "ok" if pitr.healthy else "bad"
    return f'<span class="{css}">{"ok" if pitr.healthy else "at fault"}</span><br>{said}'


def _charts(database: DatabasePage, report: PageReport) -> str:
    status = database.status
    windows = () if status.pitr is None else status.pitr.windows
    runs = database.runs
    failed = sum(run.failed for run in runs)
    left_out = len(runs) - len(charted(runs, now=report.now))
    caption = f"the newest {len(runs)} backup run(s), {failed} failed (marked ▲)" + (
        "; recoverable windows shaded" if windows else ""
    )
    if left_out:
        caption += f"; {left_out} not charted (dated in the future, or long before the others)"
    identifier = shown(status.database.identifier)
    return (
        f'<section class="database-charts" data-database="{identifier}">'
        f"<h2>{identifier}</h2>"
        f'<p class="muted">{escape(caption)}</p><div class="charts">'
        f"<figure>{size_chart(runs, now=report.now, windows=windows)}"
        "<figcaption>backup size</figcaption></figure>"
        f"<figure>{duration_chart(runs, now=report.now, windows=windows)}"
        "<figcaption>duration</figcaption></figure></div></section>"
    )
