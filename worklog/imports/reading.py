"""Reading a spreadsheet: from a file's bytes to checked cell values, and the problems met
on the way. A file (.csv in UTF-8 with or without a byte-order mark, or in GB18030 as
Chinese Excel saves it; or .xlsx, its first sheet) is read whole; its header must name
known columns, each once, and every required one; the cell parsers turn one cell into a
value or a message for whoever typed it. Rows are numbered as a spreadsheet shows them:
the header is row 1, the first data row 2.
"""

import codecs
import csv
import gc
import io
import re
import uuid as uuid_module
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.utils import get_column_letter

from worklog.forms import MAX_COUNT, MAX_FUNDS
from worklog.spreadsheets import restore_formula_text

CENT = Decimal("0.01")
MAX_COLUMNS = 64  # cells further right are not read
LIST_SEPARATOR = re.compile(r"[;；]")  # a Chinese keyboard types the full-width one
DATE_TEXT = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
NOT_WHOLE = gettext_noop("“%(value)s” is not a whole number.")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or, with row None, with the whole file)."""

    row: int | None
    column: str
    message: str

    def __str__(self):
        if self.row is None:
            return f"{self.column}: {self.message}"
        return f"row {self.row}: {self.column}: {self.message}"


class ImportRejected(Exception):
    """The file has problems, so nothing was written."""

    def __init__(self, problems):
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


class _Bad(ValueError):
    """A cell's problem, raised by the cell parsers below."""


# --- reading files ---------------------------------------------------------------------------


@contextmanager
def many_objects():
    """Around reading and writing a long file: without the cycle collector, which the
    hundreds of thousands of lasting cells, rows and values would set off again and again
    (a third of a 100,000-row import's Python time) to find no garbage. Whoever turned it
    off first turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_sheet(name, content, max_rows=None):
    """[(row number, [cells])] of the file (an .xlsx file's first sheet), header first;
    more than `max_rows` data rows are a problem (a small .xlsx file can unpack to millions)."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(content)
    elif suffix == ".csv":
        rows = csv.reader(io.StringIO(_decode(content), newline=""))
    else:
        raise _file_problem(_("Choose a .csv or .xlsx file."))
    lines = []
    try:
        for number, cells in enumerate(rows, start=1):
            if max_rows is not None and number > max_rows + 1:
                raise _file_problem(_("The file has more than %(rows)s rows; import it in parts.")
                                    % {"rows": f"{max_rows:,}"})
            lines.append((number, list(cells[:MAX_COLUMNS])))
    except csv.Error as error:
        raise _file_problem(_("This is not a readable CSV file (%(error)s).") % {"error": error})
    return lines


def _file_problem(message):
    return ImportRejected([Problem(None, "file", message)])


def _decode(content):
    """UTF-8 with or without a byte-order mark; failing that, GB18030 (Chinese Excel)."""
    encodings = ("utf-8-sig",) if content.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem(_("The file's text is neither UTF-8 nor GB18030."))


def _xlsx_rows(content):
    unreadable = _("This is not a readable .xlsx file.")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — zip, XML or openpyxl errors alike: not a workbook we read
        raise _file_problem(unreadable) from None
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(max_col=min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS),
                                   values_only=True)
    except Exception:  # noqa: BLE001 — as above
        raise _file_problem(unreadable) from None
    finally:
        workbook.close()


def _records(lines, columns, required):
    """([(row number, {column: cell})] of the non-blank data rows, [Problem]).

    Raises ImportRejected when the header names an unknown column, a column twice, or
    misses a required one: the rows cannot be understood then.
    """
    if not lines:
        raise _file_problem(_("The file is empty."))
    written = [_text(cell).lstrip("\ufeff") for cell in lines[0][1]]
    while written and not written[-1]:
        written.pop()
    header = [name.lower() for name in written]
    problems = []
    for index, name in enumerate(header):
        if not name:
            problems.append(Problem(1, get_column_letter(index + 1), _("This column has no name.")))
        elif name not in columns:
            problems.append(Problem(1, written[index], _(
                "Unknown column; the columns are: %(columns)s.") % {"columns": ", ".join(columns)}))
        elif header.index(name) != index:
            problems.append(Problem(1, name, _("This column appears twice.")))
    problems += [Problem(1, name, _("This required column is missing."))
                 for name in required if name not in header]
    if problems:
        raise ImportRejected(problems)
    records = []
    for number, cells in lines[1:]:
        if _blank_line(cells):
            continue
        for index in range(len(header), len(cells)):
            if not _blank(cells[index]):
                problems.append(Problem(number, get_column_letter(index + 1),
                                        _("A value in a column without a name.")))
                break
        cells = cells + [None] * (len(header) - len(cells))
        records.append((number, dict(zip(header, cells))))
    return records, problems


# --- cells -----------------------------------------------------------------------------------


def _blank(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _blank_line(cells):
    try:
        return not "".join(cells).strip()  # a CSV line: text cells only, joined in one go
    except TypeError:
        return all(_blank(cell) for cell in cells)


def _normalise(text):
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _text(cell):
    if isinstance(cell, str):
        text = _normalise(cell)
    elif cell is None:
        return ""
    elif isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))  # a house number or phone typed as a number
    else:
        text = _normalise(str(cell))
    # Our exports guard text a spreadsheet would run as a formula with an apostrophe.
    return restore_formula_text(text) if text.startswith("'") else text


def _remembered(parse):
    """`parse`, remembering its value or problem per distinct cell: a long file repeats its
    dates, teams, activities and counts thousands of times."""
    outcomes = {}

    def parse_remembered(cell):
        key = (cell.__class__, cell)  # 1, 1.0 and True are one dict key otherwise
        outcome = outcomes.get(key)
        if outcome is None:
            try:
                outcome = outcomes[key] = (parse(cell), None)
            except _Bad as bad:
                outcome = outcomes[key] = (None, str(bad))
        if outcome[1] is not None:
            raise _Bad(outcome[1])
        return outcome[0]
    return parse_remembered


def _required(parse):
    def parse_required(cell):
        if _blank(cell):
            raise _Bad(_("This value is required."))
        return parse(cell)
    return parse_required


def _limited(length):
    def parse_text(cell):
        text = _text(cell)
        if len(text) > length:
            raise _Bad(_("At most %(length)s characters.") % {"length": length})
        return text
    return parse_text


def _number(cell, problem):
    """The cell as a Decimal ≥ 0; `problem` (a message id) says what it should have been."""
    try:
        if isinstance(cell, bool):
            raise InvalidOperation
        number = Decimal(repr(cell) if isinstance(cell, float) else str(cell).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise _Bad(_(problem) % {"value": cell}) from None
    if number < 0:
        raise _Bad(_("Must be 0 or more."))
    return number


def _whole(cell, maximum=MAX_COUNT):
    if _blank(cell):
        return 0
    number = _number(cell, NOT_WHOLE)
    if number != number.to_integral_value():
        raise _Bad(_(NOT_WHOLE) % {"value": cell})
    if number > maximum:
        raise _Bad(_("Must be at most %(maximum)s.") % {"maximum": f"{maximum:,}"})
    return int(number)


def _funds(cell):
    if _blank(cell):
        return Decimal("0.00")
    amount = _number(cell, gettext_noop("“%(value)s” is not an amount of yuan."))
    if amount > MAX_FUNDS:
        raise _Bad(_("Must be at most %(maximum)s.") % {"maximum": f"{MAX_FUNDS:,}"})
    if amount != amount.quantize(CENT):
        raise _Bad(_("At most 2 decimal places."))
    return amount.quantize(CENT)


def _day(cell):
    """A real spreadsheet date, or text YYYY-MM-DD (YYYY/M/D as Excel re-saves it)."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    match = DATE_TEXT.fullmatch(text)
    try:
        return date(*(int(part) for part in match.groups()))
    except (AttributeError, ValueError):
        raise _Bad(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": text}) from None


def _uuid(cell):
    if _blank(cell):
        return None
    try:
        return uuid_module.UUID(_text(cell))
    except ValueError:
        raise _Bad(_("“%(value)s” is not a uuid.") % {"value": _text(cell)}) from None


def _names(cell):
    """The distinct names of a `;`-separated cell in their order, and those given twice."""
    text = _text(cell)
    if ";" not in text and "；" not in text:
        return ([text] if text else []), []  # one name, the common case: nothing to count
    names = [name.strip() for name in LIST_SEPARATOR.split(text)]
    counts = Counter(name for name in names if name)
    return list(counts), [name for name, count in counts.items() if count > 1]


def _quoted(names):
    return "、".join(f"“{name}”" for name in names)


class _Row:
    """Collects one row's values and problems; `cell(column, parse)` is None when bad."""

    def __init__(self, number, record, columns):
        self.number, self.record, self.columns, self.problems = number, record, columns, []

    def cell(self, column, parse):
        try:
            return parse(self.record.get(column))
        except _Bad as bad:
            self.add(column, str(bad))
            return None

    def add(self, column, message):
        self.problems.append(Problem(self.number, column, message))

    def sorted_problems(self):
        return sorted(self.problems, key=lambda problem: self.columns.index(problem.column))


def _in_order(problems):
    return sorted(problems, key=lambda problem: problem.row or 0)

