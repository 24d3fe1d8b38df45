"""What an indicator's total is made of: the entry or tally column each measure sums,
the indicators in order, and `IndicatorTotal`, the one value every reader returns."""

from dataclasses import dataclass
from decimal import Decimal

from worklog.models import Activity, Indicator, Measure

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
    """Indicators in order with their activities, in one query: the indicators joined to
    their activities (a row per pair, an indicator of none on a row of its own), each
    indicator's `activities.all()` then answered from memory as prefetch_related would
    answer it (which took a second query and more CPU; issue 14)."""
    indicator_fields = [field.attname for field in Indicator._meta.concrete_fields]
    activity_fields = [field.attname for field in Activity._meta.concrete_fields]
    split, activity_pk = len(indicator_fields), activity_fields.index(Activity._meta.pk.attname)
    indicator_pk = indicator_fields.index(Indicator._meta.pk.attname)
    rows = Indicator.objects.order_by("order", "code", "activities__order", "activities__code").values_list(
        *indicator_fields, *(f"activities__{name}" for name in activity_fields))
    indicators, activities = {}, {}
    for row in rows:
        pk = row[indicator_pk]
        if pk not in indicators:
            indicators[pk] = Indicator.from_db(rows.db, indicator_fields, row[:split])
            activities[pk] = []
        if row[split + activity_pk] is not None:
            activities[pk].append(Activity.from_db(rows.db, activity_fields, row[split:]))
    for pk, indicator in indicators.items():
        related = indicator.activities.get_queryset()  # as prefetch_related keeps them
        related._result_cache, related._prefetch_done = activities[pk], True
        indicator._prefetched_objects_cache = {"activities": related}
    return list(indicators.values())


def as_totals(indicators, values):
    return [IndicatorTotal(ind, _value(ind, values.get(f"i{ind.pk}"))) for ind in indicators]


def _value(indicator, raw):
    if indicator.measure == Measure.FUNDS:
        return Decimal(raw or 0).quantize(Decimal("0.01"))
    return int(raw or 0)
