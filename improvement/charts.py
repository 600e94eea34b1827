"""Charts of the analysis report as hand-written SVG, drawn on the server.

No JavaScript, no CDN, no plotting library: the same SVG is inlined in the report page, served on its own
(``report_chart``) and embedded in the PDF, where WeasyPrint draws its text with the CSS font named in
``font`` (the PDF passes the CJK face of ``templates/pdf/base.html``, so the Chinese labels have glyphs) and
``fluid=False`` (see ``_svg``).

Every function takes plain values (labels as text, numbers as Decimal/str/None) and returns one ``<svg>``
element as a string. Every piece of text is escaped; a missing value leaves a gap, never a zero.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

# The page's stack: Chinese faces first, as browsers pick the first face that has the glyph.
WEB_FONT = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif"

WIDTH = 640
INK = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
LINE = "#0d6efd"
PREVIOUS = "#495057"
BAND_COLOURS = {
    "success": "#198754",
    "primary": "#0d6efd",
    "info": "#0dcaf0",
    "warning": "#ffc107",
    "danger": "#dc3545",
}


def _t(value) -> str:
    return escape(str(value), quote=True)


def _num(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _fmt(value: Decimal) -> str:
    return f"{value:.1f}"


def _svg(width: int, height: int, font: str, title: str, body: list[str], fluid: bool) -> str:
    # A browser shrinks a fluid chart to its column keeping its proportions. WeasyPrint would not: this style
    # makes it draw the chart square, so the PDF's charts are not fluid (its CSS sets max-width instead).
    style = ' style="max-width: 100%; height: auto"' if fluid else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"{style} font-family="{_t(font)}" font-size="12" role="img" aria-label="{_t(title)}">'
        f"<title>{_t(title)}</title>"
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" fill="{INK}">{_t(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


@dataclass(frozen=True)
class TrendPoint:
    label_zh: str
    label_en: str
    score: Decimal | str | None


@dataclass(frozen=True)
class Threshold:
    """A band's lowest score, drawn as a dashed line across the trend."""

    score: Decimal | str
    label: str


def trend_svg(
    points: Sequence[TrendPoint],
    *,
    title: str,
    thresholds: Sequence[Threshold] = (),
    font: str = WEB_FONT,
    fluid: bool = True,
) -> str:
    """The round's score over the last rounds, oldest first: a line through the scored rounds (broken where a
    round has no score), each point labelled with its score; the bands' lowest scores as dashed lines."""
    height, left, right, top, bottom = 270, 46, WIDTH - 92, 34, 214
    scores = [s for s in (_num(p.score) for p in points) if s is not None]
    low = min([Decimal(60), *scores])
    floor = Decimal(int(low // 10) * 10)
    if floor == 100:
        floor = Decimal(90)

    def y(score: Decimal) -> float:
        return bottom - float((score - floor) / (100 - floor)) * (bottom - top)

    body = []
    tick = floor
    while tick <= 100:
        body.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{right}" y2="{y(tick):.1f}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="10">'
            f"{int(tick)}</text>"
        )
        tick += 10
    for threshold in thresholds:
        value = _num(threshold.score)
        if value is None or not floor <= value <= 100:
            continue
        body.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{right}" y2="{y(value):.1f}" stroke="{MUTED}" '
            'stroke-dasharray="4 3"/>'
        )
        body.append(
            f'<text x="{right + 4}" y="{y(value) + 4:.1f}" fill="{MUTED}" font-size="10">{_t(threshold.label)}</text>'
        )
    count = len(points)
    step = (right - left) / count if count else 0
    segments: list[list[str]] = [[]]
    marks = []  # points and their labels, drawn over the line
    for i, point in enumerate(points):
        x = left + step * (i + 0.5)
        body.append(
            f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" fill="{INK}">{_t(point.label_zh)}</text>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{bottom + 32}" text-anchor="middle" fill="{MUTED}" font-size="10">'
            f"{_t(point.label_en)}</text>"
        )
        score = _num(point.score)
        if score is None:
            segments.append([])
            marks.append(
                f'<text x="{x:.1f}" y="{bottom - 6}" text-anchor="middle" fill="{MUTED}" font-size="10">—</text>'
            )
            continue
        segments[-1].append(f"{x:.1f},{y(score):.1f}")
        marks.append(f'<circle cx="{x:.1f}" cy="{y(score):.1f}" r="4" fill="{LINE}"/>')
        marks.append(f'<text x="{x:.1f}" y="{y(score) - 8:.1f}" text-anchor="middle" fill="{INK}">{_fmt(score)}</text>')
    lines = [
        f'<polyline points="{" ".join(s)}" fill="none" stroke="{LINE}" stroke-width="2"/>'
        for s in segments
        if len(s) > 1
    ]
    return _svg(WIDTH, height, font, title, body + lines + marks, fluid)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | str | int | None
    colour: str = LINE
    sublabel: str = ""
    previous: Decimal | str | None = None  # drawn as a marker (the last round's value)


def bars_svg(
    bars: Sequence[Bar],
    *,
    title: str,
    maximum: Decimal | int | None = None,
    label_width: int = 200,
    integer: bool = False,
    legend: str = "",
    font: str = WEB_FONT,
    fluid: bool = True,
) -> str:
    """Horizontal bars, one row each, labelled on the left, the value at the bar's end. ``maximum`` fixes the
    scale (100 for means); otherwise the largest value. ``previous`` values show as a dark tick."""
    row = 30 if any(b.sublabel for b in bars) else 24
    top = 34
    height = top + row * max(len(bars), 1) + (34 if legend else 14)
    left, right = label_width, WIDTH - 56
    values = [_num(b.value) for b in bars]
    scale = _num(maximum) if maximum is not None else max([v for v in values if v is not None] or [Decimal(0)])
    scale = scale or Decimal(1)

    def x(value: Decimal) -> float:
        return left + float(min(value, scale) / scale) * (right - left)

    body = [f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{top + row * len(bars)}" stroke="{MUTED}"/>']
    for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = top + row * i
        middle = y + row / 2
        label_y = middle - 2 if bar.sublabel else middle + 4
        body.append(f'<text x="{left - 8}" y="{label_y:.1f}" text-anchor="end" fill="{INK}">{_t(bar.label)}</text>')
        if bar.sublabel:
            body.append(
                f'<text x="{left - 8}" y="{middle + 11:.1f}" text-anchor="end" fill="{MUTED}" font-size="10">'
                f"{_t(bar.sublabel)}</text>"
            )
        if value is None:
            body.append(f'<text x="{left + 6}" y="{middle + 4:.1f}" fill="{MUTED}">—</text>')
            continue
        end = x(value)
        body.append(
            f'<rect x="{left}" y="{y + 5:.1f}" width="{max(end - left, 0):.1f}" height="{row - 10}" '
            f'fill="{_t(bar.colour)}"/>'
        )
        text = str(int(value)) if integer else _fmt(value)
        body.append(f'<text x="{end + 5:.1f}" y="{middle + 4:.1f}" fill="{INK}">{text}</text>')
        previous = _num(bar.previous)
        if previous is not None:
            px = x(previous)
            body.append(
                f'<line x1="{px:.1f}" y1="{y + 2:.1f}" x2="{px:.1f}" y2="{y + row - 2:.1f}" stroke="{PREVIOUS}" '
                'stroke-width="2.5"/>'
            )
    if legend:
        body.append(
            f'<line x1="{left}" y1="{height - 14}" x2="{left}" y2="{height - 4}" stroke="{PREVIOUS}" '
            'stroke-width="2.5"/>'
        )
        body.append(f'<text x="{left + 6}" y="{height - 5}" fill="{MUTED}" font-size="10">{_t(legend)}</text>')
    return _svg(WIDTH, height, font, title, body, fluid)
