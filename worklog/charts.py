"""Month-by-month bar charts drawn on the server as SVG: readable without JavaScript."""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

# A wide, low chart: on a phone a card is ~350 px wide, so one unit of the viewBox is ~1.45
# px there and the month labels (LABEL_SIZE units) render at ~13 px (~10 px at 320 px).
WIDTH, HEIGHT = 240, 56
PLOT_TOP, PLOT_BOTTOM = 4, 42
BAR_GAP = 4
LABEL_SIZE = 9


@dataclass
class Bar:
    month: int
    value: object
    x: float
    y: float
    width: float
    height: float


@dataclass
class MonthChart:
    bars: list
    peak: object
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = PLOT_BOTTOM


def month_chart(values_by_month):
    """Bars for months 1–12 from {month: value}; the tallest bar fills the plot."""
    values = [values_by_month.get(month, 0) for month in range(1, 13)]
    peak = max(values) if any(values) else 0
    slot = WIDTH / 12
    bars = []
    for month, value in enumerate(values, start=1):
        height = (PLOT_BOTTOM - PLOT_TOP) * float(value) / float(peak) if peak else 0
        bars.append(Bar(
            month=month, value=value, x=round((month - 1) * slot + BAR_GAP / 2, 1),
            y=round(PLOT_BOTTOM - height, 1), width=round(slot - BAR_GAP, 1),
            height=round(height, 1),
        ))
    return MonthChart(bars=bars, peak=peak)


def month_chart_html(chart, *, chart_id, label):
    """The chart as inline SVG plus a hidden table for screen readers, built in one pass of
    plain string formatting: its numbers need no escaping, the title is escaped once (a
    template loop, then format_html per bar, made 17 charts the dashboard's main cost)."""
    title = escape(_("%(label)s by month") % {"label": label})
    bars = "".join(
        f'<rect x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}" fill="#0d6efd">'
        f"<title>{bar.month}: {bar.value}</title></rect>"
        f'<text x="{round(bar.x + bar.width / 2, 1)}" y="{chart.height - 3}" font-size="{LABEL_SIZE}" '
        f'text-anchor="middle" fill="#565e64">{bar.month}</text>'
        for bar in chart.bars
    )
    heads = "".join(f'<th scope="col">{bar.month}</th>' for bar in chart.bars)
    cells = "".join(f"<td>{bar.value}</td>" for bar in chart.bars)
    w, h, base = chart.width, chart.height, chart.baseline
    return mark_safe(  # noqa: S308 (numbers, and the title escaped above)
        f'<figure class="month-chart mb-0"><svg viewBox="0 0 {w} {h}" width="100%" role="img" '
        f'aria-labelledby="chart-{int(chart_id)}-title" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{int(chart_id)}-title">{title}</title>'
        f'<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#adb5bd" stroke-width="0.5"/>{bars}</svg>'
        f'<figcaption class="visually-hidden"><table><caption>{title}</caption>'
        f"<tr>{heads}</tr><tr>{cells}</tr></table></figcaption></figure>"
    )
