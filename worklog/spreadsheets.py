"""Files people open in Excel: CSV with a byte-order mark, and no cell run as a formula.

A spreadsheet runs a cell starting with = + - @ (or tab / CR) as a formula (OWASP "CSV
injection"), so exports prefix such text with an apostrophe; imports take it off again.
"""

import tablib
from django_tables2.export import TableExport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
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
        safe = tablib.Dataset(headers=self.dataset.headers, title=self.dataset.title)
        for row in self.dataset:
            safe.append([neutralise_formula(value) for value in row])
        self.dataset = safe

    def export(self):
        data = super().export()
        return "\ufeff" + data if self.format == self.CSV else data
