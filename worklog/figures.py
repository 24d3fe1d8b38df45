"""How a figure reads: an indicator's value in its unit, in the active language.

Funds are kept in yuan and read in 万元 (ten-thousands of yuan) to at most two decimals, as
the reports write them ("1936.36万元"); the exact yuan go into a title attribute and the
printed page.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from worklog.models import Measure, Unit

TEN_THOUSAND = Decimal(10000)
HUNDREDTH = Decimal("0.01")


def plain(number):
    """A Decimal without trailing zeros and never in exponent form: 1935.0000 → "1935"."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def grouped(number):
    """1935 → "1,935"; 19.35 → "19.35" (thousands separated, no trailing zeros)."""
    number = Decimal(number)
    whole, _sep, fraction = plain(abs(number)).partition(".")
    return ("-" if number < 0 else "") + f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def exact_number(value):
    """A total as tables write it, in every language: yuan (a Decimal) to the fen, counts
    whole, thousands separated: 19,350,000.00 and 12,028. (Django's Chinese number format
    has no separator, which leaves 19350000.00 hard to read.)"""
    return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"


def _chinese():
    return not (get_language() or "").startswith("en")


def unit_name(indicator):
    """The indicator's stored unit as the active language writes it: "户次" in Chinese,
    "household visits" in English (the stored value is the Chinese unit itself)."""
    return indicator.unit if _chinese() else str(Unit(indicator.unit).label)


@dataclass
class Figure:
    """An indicator's total as a page shows it."""

    indicator: object
    value: object  # the exact total: int, or Decimal yuan

    @property
    def code(self):
        return self.indicator.code

    @property
    def label(self):
        return self.indicator.label

    @property
    def is_funds(self):
        return self.indicator.measure == Measure.FUNDS

    @property
    def unit(self):
        """The unit as the text shows it: 万元 for funds."""
        if self.is_funds:
            return "万元" if _chinese() else _("× 10,000 yuan")
        return unit_name(self.indicator)

    @property
    def amount(self):
        """The value in that unit: funds in 万元 rounded to the hundredth (half up), as a
        report writes them; counts as they are."""
        if self.is_funds:
            return (self.value / TEN_THOUSAND).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
        return self.value

    @property
    def number(self):
        """The number in that unit, without grouping (for Chinese prose: 1935, 1936.36)."""
        return plain(self.amount) if self.is_funds else str(self.value)

    @property
    def text(self):
        """e.g. "1935万元", "2322户次"; in English "1,935 × 10,000 yuan", "2,322 household visits"."""
        if _chinese():
            return f"{self.number}{self.unit}"
        return f"{grouped(self.amount)} {self.unit}"

    @property
    def exact(self):
        """The exact value in the stored unit: "19,350,000.00元"."""
        unit = unit_name(self.indicator)
        value = exact_number(self.value)
        return f"{value}{unit}" if _chinese() else f"{value} {unit}"


def figures(totals):
    return [Figure(total.indicator, total.value) for total in totals]
