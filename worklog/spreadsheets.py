"""Files people open in Excel: how every exported cell is written.

A spreadsheet runs a cell starting with = + - @ (or tab / CR) as a formula (OWASP "CSV
injection"). CSV has no cell types, so its text is prefixed with an apostrophe (imports take
it off again); XLSX has them, so people's workbooks store such text as a text cell, which no
spreadsheet runs and which shows no apostrophe. Dates go into XLSX as dates and figures as
numbers with a number format, so that a workbook sorts and sums as people expect.
Control characters stored before teams.text's rule held (or written past it) are dropped:
openpyxl refuses them, which made a whole export fail.
"""

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.http import HttpResponse
from django_tables2.export import TableExport
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import DEFAULT_FONT, Font
from openpyxl.utils import get_column_letter

from teams.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

DATE_FORMAT = "yyyy-mm-dd"
COUNT_FORMAT = "0"
YUAN_FORMAT = "#,##0.00"
WAN_YUAN_FORMAT = "0.00"

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Excel refuses these in a sheet's name, and names longer than 31 characters.
NOT_IN_SHEET_TITLES = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_LENGTH = 31
# in the width of a digit: a date, or 12,345,678.90, fits
NARROWEST_COLUMN = 14
BOLD = Font(name=DEFAULT_FONT.name, sz=DEFAULT_FONT.sz, family=DEFAULT_FONT.family,
            scheme=DEFAULT_FONT.scheme, bold=True)


def neutralise_formula(value):
    """A value as a CSV or an import-format export writes it into a cell, header or data:
    printable, and text that would start a formula prefixed with an apostrophe."""
    value = printable(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_formula_text(value):
    """The inverse, for re-importing our own exports: "'=1+1" → "=1+1"."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


# A byte-order mark first makes Excel read a CSV file as UTF-8, not the system's code page.
BOM = "\ufeff"


def dataset_content(dataset, export_format):
    """A tablib dataset as the file's content: CSV with the byte-order mark, or XLSX."""
    return BOM + dataset.export("csv") if export_format == "csv" else dataset.export(export_format)


class SpreadsheetExport(TableExport):
    """A django-tables2 export whose cells are neutralised and whose CSV Excel reads as
    UTF-8: the import's format, which reads the apostrophes back off."""

    def __init__(self, export_format, table, **kwargs):
        super().__init__(export_format, table, **kwargs)
        headers = [neutralise_formula(str(header)) for header in self.dataset.headers]
        safe = tablib.Dataset(headers=headers, title=self.dataset.title)
        for row in self.dataset:
            safe.append([neutralise_formula(value) for value in row])
        self.dataset = safe

    def export(self):
        return dataset_content(self.dataset, self.format)


@dataclass(frozen=True)
class Number:
    """A figure with the number format it reads in (a whole count reads as "0" unless
    told otherwise, money must say whether it is yuan or 万元)."""

    value: object
    number_format: str


def yuan(value):
    return Number(value, YUAN_FORMAT)


def wan_yuan(value):
    return Number(value, WAN_YUAN_FORMAT)


@dataclass(frozen=True)
class Column:
    header: str
    # where its text needs more than the header's width (the rows are not known before
    # they are written), in the width of a digit
    width: int = 0


@dataclass
class Sheet:
    """What people download: a titled sheet, a header row, then rows of cells (text,
    dates, ints or `Number`s; None for an empty cell). `rows` may be a generator, read
    once, so that a large notebook is never held in memory whole."""

    title: str
    columns: list
    rows: object


class TotalRow(tuple):
    """A row of totals: written in bold in a workbook."""


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Number):
        if value.number_format == WAN_YUAN_FORMAT:  # exact, as many decimals as it takes
            return f"{value.value.normalize():f}"
        value = value.value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return neutralise_formula(value)


def write_csv(sheet):
    """The sheet as CSV text with a byte-order mark (so that Excel reads it as UTF-8)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([_csv_value(column.header) for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow([_csv_value(value) for value in row])
    return out.getvalue()


def _xlsx_cell(worksheet, value, *, bold=False):
    if isinstance(value, Number):
        cell = WriteOnlyCell(worksheet, value=value.value)
        cell.number_format = value.number_format
    elif isinstance(value, datetime.date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATE_FORMAT
    elif isinstance(value, int):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = COUNT_FORMAT
    elif value is None:
        cell = WriteOnlyCell(worksheet)
    else:
        text = printable(str(value))
        cell = WriteOnlyCell(worksheet, value=text)
        # openpyxl takes text starting with "=" for a formula: written as text instead,
        # and marked so that Excel keeps it text when the cell is edited
        cell.data_type = "s"
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    if bold:
        cell.font = BOLD
    return cell


def _text_width(text):
    """Columns a text takes: Chinese characters are two digits wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in str(text))


def sheet_title(title):
    return NOT_IN_SHEET_TITLES.sub(" ", title)[:SHEET_TITLE_LENGTH]


def write_xlsx(sheet):
    """The sheet as an XLSX workbook's bytes, written row by row (openpyxl's write-only
    mode keeps no rows in memory)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet_title(sheet.title))
    worksheet.freeze_panes = "A2"
    for number, column in enumerate(sheet.columns, start=1):
        width = max(NARROWEST_COLUMN, _text_width(column.header) + 2, column.width)
        worksheet.column_dimensions[get_column_letter(number)].width = width
    worksheet.append([_xlsx_cell(worksheet, column.header, bold=True) for column in sheet.columns])
    for row in sheet.rows:
        bold = isinstance(row, TotalRow)
        worksheet.append([_xlsx_cell(worksheet, value, bold=bold) for value in row])
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def download(content, export_format, filename):
    """A response that saves `content` as `filename`."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[export_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def sheet_download(sheet, export_format, name):
    """People's file: `name`.csv or `name`.xlsx."""
    content = write_csv(sheet) if export_format == "csv" else write_xlsx(sheet)
    return download(content, export_format, f"{name}.{export_format}")
