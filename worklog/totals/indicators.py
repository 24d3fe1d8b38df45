"""What an indicator's total is made of: the entry or tally column each measure sums,
the indicators in order, and `IndicatorTotal`, the one value every reader returns."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router

from teams.rows import columns, read_row
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


_THROUGH = Indicator.activities.through._meta
INDICATORS_SQL = f"""
    SELECT {columns(Indicator, "i")}, {columns(Activity, "a")}
    FROM {Indicator._meta.db_table} i
    LEFT JOIN {_THROUGH.db_table} ia ON ia.{_THROUGH.get_field("indicator").column} = i.id
    LEFT JOIN {Activity._meta.db_table} a ON a.id = ia.{_THROUGH.get_field("activity").column}
    ORDER BY i."order", i.code, a."order", a.code
"""


def load_indicators():
    """Indicators in order with their activities, in one plain statement: the indicators
    joined to their activities (a row per pair, an indicator of none on a row of its own),
    each indicator's `activities.all()` then answered from memory as prefetch_related would
    answer it (which took a second query and more CPU; issue 14). Every dashboard, report
    and API call reads them: the ORM's building of the joined values_list cost more CPU
    than the statement took."""
    connection = connections[router.db_for_read(Indicator)]
    split = len(Indicator._meta.concrete_fields)
    indicator_pk = [field.attname for field in Indicator._meta.concrete_fields].index(Indicator._meta.pk.attname)
    activity_pk = [field.attname for field in Activity._meta.concrete_fields].index(Activity._meta.pk.attname)
    with connection.cursor() as cursor:
        cursor.execute(INDICATORS_SQL)
        rows = cursor.fetchall()
    indicators, activities = {}, {}
    for row in rows:
        pk = row[indicator_pk]
        if pk not in indicators:
            (indicators[pk],) = read_row((Indicator,), connection, row[:split])
            activities[pk] = []
        if row[split + activity_pk] is not None:
            activities[pk].append(read_row((Activity,), connection, row[split:])[0])
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
