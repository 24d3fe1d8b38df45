"""From a file's bytes to rows of cells, within limits: the one door every spreadsheet comes
in by (the import pages and the commands).

An upload must not take the site down, so what is read is limited, not only the file's size:
an .xlsx file is a zip whose parts may unpack to a thousand times their packed size, so the
parts' unpacked sizes are checked before anything is unpacked, and the rows and cells of
the sheets openpyxl would go through are counted in a fast pass over their XML before it
parses a single cell (the import pages' limits; the commands read an administrator's files
without them). While reading, a row past the limit stops the reading, and every text cell is checked where it is
read: its length, NUL and other control characters (teams.text.clean_text, the rule for all
text coming in) and the error values a spreadsheet shows for a broken formula.
"""

import codecs
import csv
import io
import re
import zipfile
from pathlib import PurePath
from typing import NamedTuple

import openpyxl
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter

from teams.text import clean_text
from worklog.imports.reading import ImportRejected, Problem, _file_problem, shown

MAX_COLUMNS = 32  # the imports know at most 12 columns; a value further right is refused
MAX_CELL = 5000  # characters: the longest text any column takes (notes)
MAX_READING_PROBLEMS = 100  # then reading stops: enough to show what is wrong
# An .xlsx file allowed `max_rows` rows may unpack to this much per row, and a fixed allowance
# (styles, theme): a row of 12 columns written by Excel, LibreOffice or openpyxl takes well
# under 1 KB of XML. Its first sheet may hold this many cells per row, on average.
UNPACKED_PER_ROW = 800
UNPACKED_ALLOWANCE = 1 << 20
CELLS_PER_ROW = 16
LIBREOFFICE_ERROR = re.compile(r"Err:\d{3}")  # LibreOffice's own error values in CSV
SUSPICIOUS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f#]")  # with "Err:": what a check may find
CHUNK = 1 << 20


def read_sheet(name, content, max_rows=None):
    """[(row number, [cells])] of the file (an .xlsx file's first sheet), header first.

    More than `max_rows` data rows are refused, and so is an .xlsx file that unpacks to more
    than that many rows take, before it is read; a cell too long, with a NUL or holding a
    spreadsheet error is a problem of its row and column. Without `max_rows` (the commands,
    for an administrator's files) only the limits per row and per cell hold.
    """
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(content, max_rows)
    elif suffix == ".csv":
        rows = csv.reader(io.StringIO(_decode(content), newline=""))
    else:
        raise _file_problem(_("Choose a .csv or .xlsx file."))
    lines, problems, header = [], [], []
    try:
        for number, cells in enumerate(rows, start=1):
            if max_rows is not None and number > max_rows + 1:
                raise _too_many_rows(max_rows)
            cells = cells if isinstance(cells, list) else list(cells)
            if len(cells) > MAX_COLUMNS:
                _refuse_far_columns(number, cells)
                del cells[MAX_COLUMNS:]
            _check_texts(cells, number, header, problems)
            if number == 1:
                header = cells
            if len(problems) >= MAX_READING_PROBLEMS:
                break
            lines.append((number, cells))
    except csv.Error as error:
        raise _file_problem(_("This is not a readable CSV file (%(error)s).") % {"error": error})
    if problems:
        raise ImportRejected(problems)
    return lines


def _too_many_rows(max_rows):
    return _file_problem(_("The file has more than %(rows)s rows; import it in parts.")
                         % {"rows": f"{max_rows:,}"})


def _refuse_far_columns(number, cells):
    for index in range(MAX_COLUMNS, len(cells)):
        cell = cells[index]
        if cell is not None and not (isinstance(cell, str) and not cell.strip()):
            raise ImportRejected([Problem(number, get_column_letter(index + 1), _(
                "A value beyond column %(last)s; the import reads at most %(columns)s columns.")
                % {"last": get_column_letter(MAX_COLUMNS), "columns": MAX_COLUMNS})])


def _check_texts(cells, number, header, problems):
    """Each text cell of a row as the rule for incoming text has it, in place; a cell's
    problem goes to `problems` (and the cell is read as empty)."""
    try:
        texts, joined = cells, "\n".join(cells)  # a CSV line: text cells only
    except TypeError:
        texts = [cell for cell in cells if isinstance(cell, str)]
        joined = "\n".join(texts)
    # Most rows hold nothing to look at: one search tells.
    if not SUSPICIOUS.search(joined) and "Err:" not in joined and (
        len(joined) <= MAX_CELL or all(len(text) <= MAX_CELL for text in texts)
    ):
        return
    for index, cell in enumerate(cells):
        if isinstance(cell, str):
            cells[index] = _checked_text(cell, number, header, index, problems)


def _checked_text(text, number, header, index, problems):
    """The text of one cell as the rule for incoming text has it; its problem, if any, goes
    to `problems` (and the cell is read as empty)."""
    column = _column_name(header, index)
    if len(text) > MAX_CELL:
        problems.append(Problem(number, column, _(
            "More than %(length)s characters (“%(start)s”); no column takes that much.")
            % {"length": f"{MAX_CELL:,}", "start": shown(text)}))
        return None
    stripped = text.strip()
    if stripped in ERROR_CODES or LIBREOFFICE_ERROR.fullmatch(stripped):
        problems.append(Problem(number, column, _(
            "The cell shows the spreadsheet error %(error)s, not a value: correct the formula "
            "or type the value.") % {"error": stripped}))
        return None
    try:
        return clean_text(text)
    except ValidationError as error:
        problems.append(Problem(number, column, " ".join(error.messages)))
        return None


def _column_name(header, index):
    """The header's name for the column at `index` when it has a usable one, else its letter."""
    name = header[index] if index < len(header) else None
    if isinstance(name, str) and name.strip() and len(name) <= 40:
        return name.strip().lstrip("\ufeff").lower()
    return get_column_letter(index + 1)


def _decode(content):
    """UTF-8 with or without a byte-order mark; failing that, GB18030 (Chinese Excel)."""
    encodings = ("utf-8-sig",) if content.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem(_("The file's text is neither UTF-8 nor GB18030."))


# --- .xlsx -----------------------------------------------------------------------------------


def _xlsx_rows(content, max_rows):
    unreadable = _("This is not a readable .xlsx file.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_problem(unreadable) from None
    # zipfile never unpacks more than a part's stated size, so the stated sizes bound the work.
    limit = None if max_rows is None else UNPACKED_ALLOWANCE + max_rows * UNPACKED_PER_ROW
    if limit is not None and unpacked > limit:
        raise _file_problem(_(
            "The workbook unpacks to %(size)s MB, more than the %(limit)s MB read here. Save "
            "only the rows to import, or import it in parts.") % {
                "size": f"{unpacked / 2**20:,.0f}", "limit": f"{limit / 2**20:,.0f}"})
    try:
        if max_rows is not None:
            _count_before_reading(content, archive, max_rows)
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ImportRejected:
        raise
    except Exception:  # noqa: BLE001 — zip, XML or openpyxl errors alike: not a workbook we read
        raise _file_problem(unreadable) from None
    try:
        sheet = workbook.worksheets[0]
        # One column more than is read: a value there is refused, not silently dropped.
        width = min(sheet.max_column or MAX_COLUMNS + 1, MAX_COLUMNS + 1)
        yield from sheet.iter_rows(max_col=width, values_only=True)
    except Exception:  # noqa: BLE001 — as above
        raise _file_problem(unreadable) from None
    finally:
        workbook.close()


class _Counted(NamedTuple):
    rows: int
    cells: int
    sized: bool  # the sheet states its size (<dimension>) before its data


def _count_before_reading(content, archive, max_rows):
    """Refuse a workbook with more rows, or more cells, than `max_rows` rows can have,
    counted in the raw XML, which takes a fraction of the time openpyxl takes to parse it.
    Counted: the first sheet, which is read, and every sheet that does not state its size,
    which openpyxl reads through to size it when it opens the workbook."""
    reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_workbook()
    paths = [rel.target for _sheet, rel in reader.parser.find_sheets()
             if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
    rows = cells = 0
    for index, path in enumerate(paths):
        counted = _count_tags(archive, path)
        if index == 0 or not counted.sized:
            rows, cells = rows + counted.rows, cells + counted.cells
    if rows > max_rows + 1:
        raise _too_many_rows(max_rows)
    if cells > (max_rows + 1) * CELLS_PER_ROW:
        raise _file_problem(_(
            "The sheet has %(cells)s cells, more than %(rows)s rows of %(columns)s columns "
            "hold; delete the empty or unused columns and rows, or import it in parts.") % {
                "cells": f"{cells:,}", "rows": f"{max_rows:,}", "columns": CELLS_PER_ROW})


def _count_tags(archive, path):
    """The rows and cells of a worksheet part, read in chunks: never the whole part at once."""
    rows = cells = 0
    prefix, sized, carried = None, None, b""
    with archive.open(path) as part:
        while chunk := part.read(CHUNK):
            data = carried + chunk
            if prefix is None:
                found = re.search(rb"<([\w.-]+:)?worksheet[\s>]", data)
                prefix = (found.group(1) or b"") if found else b""
            if sized is None and b"<" + prefix + b"sheetData" in data:
                start = data.index(b"<" + prefix + b"sheetData")
                sized = b"<" + prefix + b"dimension" in data[:start]
            # A tag cut at the chunk's end is counted with the next chunk.
            cut = data.rfind(b"<")
            cut = cut if cut >= 0 and len(data) - cut < 64 else len(data)
            data, carried = data[:cut], data[cut:]
            rows += _count(data, b"<" + prefix + b"row")
            cells += _count(data, b"<" + prefix + b"c")
    return _Counted(rows, cells, bool(sized))


def _count(data, start):
    return sum(data.count(start + follower) for follower in (b" ", b">", b"/", b"\n", b"\t", b"\r"))
