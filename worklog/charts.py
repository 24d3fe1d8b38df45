"""Month-by-month bar charts drawn on the server as SVG: readable without JavaScript."""

from dataclasses import dataclass

from django.utils.dates import MONTHS_3

WIDTH, HEIGHT = 240, 80
PLOT_TOP, PLOT_BOTTOM = 4, 64
BAR_GAP = 4


@dataclass
class Bar:
    month: int
    value: object
    x: float
    y: float
    width: float
    height: float

    @property
    def month_label(self):
        return MONTHS_3[self.month]


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
