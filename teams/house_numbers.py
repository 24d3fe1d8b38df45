"""House numbers in the order people count them: "2" before "10", "12A" after "12" and
before "100", on SQLite and PostgreSQL alike.

House numbers are text ("12", "12A", "3-1", now and then no digit at all); sorted as
text, "112" comes before "12" and "2". The order here is the number a house number
starts with, then the text itself; those that start with no digit come last, as text.
"""

from django.db.models import DecimalField, F, Func


class LeadingNumber(Func):
    """The number the text starts with (ASCII digits, leading zeros dropped), NULL when
    it does not start with a digit."""

    # a whole house number of digits (20 characters) fits exactly
    output_field = DecimalField(max_digits=20, decimal_places=0)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="CAST(NULLIF(substring(%(expressions)s FROM '^[0-9]+'), '') AS numeric(20, 0))",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # CAST reads the digits a text starts with; GLOB keeps "abc" from counting as 0
        return self.as_sql(
            compiler, connection,
            template="CASE WHEN %(expressions)s GLOB '[0-9]*' THEN CAST(%(expressions)s AS INTEGER) END",
            **extra,
        )


def by_house_number(field="house_number", *, descending=False):
    """Order-by expressions for `queryset.order_by(*by_house_number())`; `field` may reach
    through relations ("household__house_number")."""
    number, text = LeadingNumber(field), F(field)
    if descending:
        return [number.desc(nulls_first=True), text.desc()]
    return [number.asc(nulls_last=True), text.asc()]
