"""Tiny inline-SVG charts (line chart, interval bar), so reports need no plotting library or CDN.

The output is a plain string of SVG markup with a <title>/<desc> for screen readers; callers wrap it
in ``markupsafe.Markup``. Every text node and attribute is escaped here.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from html import escape

# Colour-blind-safe (Okabe-Ito) with enough contrast on white for 2px lines.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")


@dataclass
class Series:
    """One line: points (x, y) in data units; ``dashed`` and ``markers`` tell series apart without colour."""

    name: str
    points: list[tuple[float, float]]
    colour: str | None = None
    dashed: bool = False
    markers: bool = False


@dataclass
class Band:
    """A labelled x-range (a training phase), drawn as an alternating background strip."""

    label: str
    start: float
    end: float


@dataclass
class Chart:
    title: str
    series: list[Series]
    x_label: str = ""
    y_label: str = ""
    bands: list[Band] = field(default_factory=list)
    width: int = 640
    height: int = 280


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1/2/5 x 10^k steps)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high == low:
        high, low = high + (abs(high) or 1) * 0.5, low - (abs(low) or 1) * 0.5
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5 and len(ticks) < 50:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.3g}"


def line_chart(chart: Chart) -> str:
    """An accessible SVG line chart with axes, ticks, legend and optional phase bands."""
    points = [p for s in chart.series for p in s.points if math.isfinite(p[0]) and math.isfinite(p[1])]
    w, h = chart.width, chart.height
    left, right, top, bottom = 56, 16, 42, 44
    uid = "c" + hashlib.sha1(f"{chart.title}|{len(points)}".encode()).hexdigest()[:10]
    parts = [
        f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(chart.title)}</title>',
        f'<desc id="{uid}-d">{escape(_describe(chart))}</desc>',
        '<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>',
    ]
    if not points:
        parts.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" fill="#57606a">no data</text></svg>')
        return "".join(parts)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_ticks = nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    x0, x1 = min(x_ticks[0], min(xs)), max(x_ticks[-1], max(xs))
    y0, y1 = min(y_ticks[0], min(ys)), max(y_ticks[-1], max(ys))
    plot_w, plot_h = w - left - right, h - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y0) / ((y1 - y0) or 1) * plot_h

    for index, band in enumerate(chart.bands):
        a, b = sx(max(band.start, x0)), sx(min(band.end, x1))
        if index % 2:
            parts.append(f'<rect x="{a:.1f}" y="{top}" width="{max(b - a, 0):.1f}" height="{plot_h}" fill="#f2f4f7"/>')
        parts.append(f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{top - 12}" y2="{top + plot_h}" stroke="#8c959f" '
                     'stroke-dasharray="3 3"/>')
        parts.append(f'<text x="{a + 3:.1f}" y="{top - 3}" font-size="11" fill="#424a53">{escape(band.label)}</text>')
    for tick in y_ticks:
        y = sy(tick)
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#424a53">'
                     f"{escape(_fmt_tick(tick))}</text>")
    for tick in x_ticks:
        x = sx(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#424a53"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle" fill="#424a53">'
                     f"{escape(_fmt_tick(tick))}</text>")
    parts.append(f'<line x1="{left}" x2="{w - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#424a53"/>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#424a53"/>')
    if chart.x_label:
        parts.append(f'<text x="{left + plot_w / 2}" y="{h - 8}" font-size="12" text-anchor="middle" fill="#1b1f24">'
                     f"{escape(chart.x_label)}</text>")
    if chart.y_label:
        parts.append(f'<text x="14" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" fill="#1b1f24" '
                     f'transform="rotate(-90 14 {top + plot_h / 2})">{escape(chart.y_label)}</text>')
    legend_x = left
    for index, series in enumerate(chart.series):
        colour = series.colour or PALETTE[index % len(PALETTE)]
        clean = [(x, y) for x, y in series.points if math.isfinite(x) and math.isfinite(y)]
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        if len(clean) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(clean))
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        if series.markers or len(clean) == 1:
            parts.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>' for x, y in clean)
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="12" y2="12" stroke="{colour}" '
                     f'stroke-width="2"{dash}/>')
        parts.append(f'<text x="{legend_x + 22}" y="16" font-size="12" fill="#1b1f24">{escape(series.name)}</text>')
        legend_x += 30 + 7 * len(series.name)
    parts.append("</svg>")
    return "".join(parts)


def _describe(chart: Chart) -> str:
    pieces = []
    for series in chart.series:
        if series.points:
            first, last = series.points[0], series.points[-1]
            pieces.append(f"{series.name}: {len(series.points)} points, from {first[1]:.4g} at {chart.x_label or 'x'} "
                          f"{first[0]:g} to {last[1]:.4g} at {last[0]:g}")
    return "; ".join(pieces) or "no data"


def interval_bar(low: float | None, mean: float, high: float | None, *, scale: float, better_sign: int = 1,
                 width: int = 120, height: int = 16) -> str:
    """A difference with its CI on a symmetric axis [-scale, scale] around a zero line.

    ``better_sign`` is +1 when a positive difference is an improvement, -1 otherwise; the dot is
    filled green/red only when the CI excludes zero, and hollow grey when it does not.
    """
    scale = scale or 1.0
    pad = 4

    def sx(v: float) -> float:
        return pad + (max(-scale, min(scale, v)) + scale) / (2 * scale) * (width - 2 * pad)

    if low is None or high is None:
        low = high = mean  # one pair: a dot, no interval
        colour, fill = "#8c959f", "#fff"
    elif low > 0 or high < 0:
        colour = "#116329" if (mean > 0) == (better_sign > 0) else "#a40e26"
        fill = colour
    else:
        colour, fill = "#57606a", "#fff"
    mid = height / 2
    return (
        f'<svg class="ibar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-hidden="true" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="1" y2="{height - 1}" stroke="#8c959f" stroke-dasharray="2 2"/>'
        f'<line x1="{sx(low):.1f}" x2="{sx(high):.1f}" y1="{mid}" y2="{mid}" stroke="{colour}" stroke-width="2"/>'
        f'<circle cx="{sx(mean):.1f}" cy="{mid}" r="3.5" fill="{fill}" stroke="{colour}" stroke-width="1.5"/></svg>'
    )


@dataclass
class DotRow:
    """One candidate's difference from the baseline on one metric, for a dot-and-CI panel."""

    label: str
    mean: float
    low: float | None
    high: float | None
    status: str  # better | worse | no difference | too few cases
    text: str  # the figures, printed beside the dot


_STATUS_STYLE = {"better": ("#116329", "#116329"), "worse": ("#a40e26", "#a40e26"),
                 "no difference": ("#424a53", "#fff"), "too few cases": ("#8c959f", "#fff")}


def dot_ci_panel(title: str, rows: list[DotRow], *, better_sign: int = 1, width: int = 560) -> str:
    """Differences vs the baseline with their CIs on a shared axis around zero, one row per candidate.

    Filled dot = better/worse after Holm; hollow = no difference; grey dashed = too few cases.
    The side of zero that is better is labelled, so the reader needs no legend for direction.
    """
    label_w, text_w, row_h, top = 90, 250, 24, 34
    plot_w = width - label_w - text_w - 12
    height = top + row_h * max(1, len(rows)) + 8
    bounds = [abs(v) for r in rows for v in (r.low, r.high, r.mean) if v is not None and math.isfinite(v)]
    scale = max(bounds, default=1.0) * 1.1 or 1.0
    uid = "d" + hashlib.sha1(f"{title}|{rows}".encode()).hexdigest()[:10]

    def sx(v: float) -> float:
        return label_w + (max(-scale, min(scale, v)) + scale) / (2 * scale) * plot_w

    desc = "; ".join(f"{r.label}: {r.text} ({r.status})" for r in rows) or "no comparison"
    right, left = ("better →", "← worse") if better_sign > 0 else ("worse →", "← better")
    zero = sx(0)
    parts = [
        f'<svg class="dotci" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
        f'<text x="0" y="13" font-size="12" font-weight="600" fill="#1b1f24">{escape(title)}</text>',
        f'<text x="{zero - 4:.1f}" y="28" font-size="10" text-anchor="end" fill="#57606a">{left}</text>',
        f'<text x="{zero + 4:.1f}" y="28" font-size="10" fill="#57606a">{right}</text>',
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top - 4}" y2="{height - 4}" stroke="#8c959f" '
        'stroke-dasharray="3 3"/>',
    ]
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        stroke, fill = _STATUS_STYLE.get(r.status, _STATUS_STYLE["no difference"])
        dash = ' stroke-dasharray="4 3"' if r.status == "too few cases" else ""
        parts.append(f'<text x="0" y="{y + 4:.1f}" font-size="12" fill="#1b1f24">{escape(r.label)}</text>')
        if r.low is not None and r.high is not None:
            parts.append(f'<line x1="{sx(r.low):.1f}" x2="{sx(r.high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{stroke}" stroke-width="2"{dash}/>')
        parts.append(f'<circle cx="{sx(r.mean):.1f}" cy="{y:.1f}" r="4.5" fill="{fill}" stroke="{stroke}" '
                     'stroke-width="1.5"/>')
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + 4:.1f}" font-size="11" fill="#424a53">'
                     f"{escape(r.text)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def wtl_bars(title: str, rows: list[tuple[str, int, int, int]], *, width: int = 560) -> str:
    """Per row (label, wins, ties, losses): a stacked bar of cases where the candidate beat, tied or
    lost to the baseline. Counts are printed in each segment, so colour is never the only cue."""
    label_w, row_h, top = 230, 22, 34
    plot_w = width - label_w - 8
    height = top + row_h * max(1, len(rows)) + 6
    uid = "w" + hashlib.sha1(f"{title}|{rows}".encode()).hexdigest()[:10]
    desc = "; ".join(f"{label}: {w} wins, {t} ties, {lo} losses" for label, w, t, lo in rows) or "no comparison"
    parts = [
        f'<svg class="wtl" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>',
        f'<text x="0" y="13" font-size="12" font-weight="600" fill="#1b1f24">{escape(title)}</text>',
        f'<text x="{label_w}" y="28" font-size="10" fill="#116329">win</text><text x="{label_w + 30}" y="28" '
        f'font-size="10" fill="#57606a">tie</text><text x="{label_w + 55}" y="28" font-size="10" '
        'fill="#a40e26">loss</text>',
    ]
    colours = (("#2da44e", "#fff"), ("#d0d7de", "#1b1f24"), ("#cf222e", "#fff"))
    for i, (label, *counts) in enumerate(rows):
        y = top + row_h * i
        total = sum(counts) or 1
        x = float(label_w)
        parts.append(f'<text x="0" y="{y + 15}" font-size="11" fill="#1b1f24">{escape(label)}</text>')
        for count, (colour, ink) in zip(counts, colours, strict=True):
            w = plot_w * count / total
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
                if w >= 14:
                    parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="10" text-anchor="middle" '
                                 f'fill="{ink}">{count}</text>')
            x += w
    parts.append("</svg>")
    return "".join(parts)
