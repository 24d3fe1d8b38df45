"""What an indicator's total is made of: the entry or tally column each measure sums,
the indicators in order, and `IndicatorTotal`, the one value every reader returns."""

from dataclasses import dataclass
from decimal import Decimal

from worklog.models import Indicator, Measure

ENTRY_MEASURES = {
    Measure.QUANTITY: "quantity",
    Measure.PARTICIPANTS: "participants",
    Measure.SESSIONS: "sessions",
    Measure.FUNDS: "funds",
}
# The Tally column each additive measure sums; entries are a count kept as a sum too.
TALLY_FIELDS = {**ENTRY_MEASURES, Measure.ENTRIES: "entries", Measure.HOUSEHOLD_VISITS: "household_visits"}


@dataclass
class IndicatorTotal:
    indicator: Indicator
    value: object  # int for counts, Decimal for funds

    @property
    def code(self):
        return self.indicator.code

    def as_dict(self):
        value = self.value
        if self.indicator.measure == Measure.FUNDS:
            value = f"{value:.2f}"
        return {
            "code": self.indicator.code,
            "label": str(self.indicator.label),
            "unit": self.indicator.unit,
            "value": value,
        }


def load_indicators():
    """Indicators in order with their activities: two queries."""
    return list(Indicator.objects.prefetch_related("activities").order_by("order", "code"))


def as_totals(indicators, values):
    return [IndicatorTotal(ind, _value(ind, values.get(f"i{ind.pk}"))) for ind in indicators]


def _value(indicator, raw):
    if indicator.measure == Measure.FUNDS:
        return Decimal(raw or 0).quantize(Decimal("0.01"))
    return int(raw or 0)
