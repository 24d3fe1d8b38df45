"""Files people open in Excel: CSV with a byte-order mark, no cell run as a formula, and
no cell a spreadsheet cannot hold.

A spreadsheet runs a cell starting with = + - @ (or tab / CR) as a formula (OWASP "CSV
injection"), so exports prefix such text with an apostrophe; imports take it off again.
Control characters stored before teams.text's rule held (or written past it) are dropped:
openpyxl refuses them, which made a whole export fail.
"""

import tablib
from django_tables2.export import TableExport

from teams.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A value as every export writes it into a cell, header or data: printable, and
    text that would start a formula prefixed with an apostrophe."""
    value = printable(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_formula_text(value):
    """The inverse, for re-importing our own exports: "'=1+1" → "=1+1"."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class SpreadsheetExport(TableExport):
    """A django-tables2 export whose cells are neutralised and whose CSV Excel reads as UTF-8."""

    def __init__(self, export_format, table, **kwargs):
        super().__init__(export_format, table, **kwargs)
        headers = [neutralise_formula(str(header)) for header in self.dataset.headers]
        safe = tablib.Dataset(headers=headers, title=self.dataset.title)
        for row in self.dataset:
            safe.append([neutralise_formula(value) for value in row])
        self.dataset = safe

    def export(self):
        data = super().export()
        return "\ufeff" + data if self.format == self.CSV else data
