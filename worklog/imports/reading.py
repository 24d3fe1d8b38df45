"""Understanding a spreadsheet's rows (read by worklog.imports.sheets): its header must
name known columns, each once, and every required one; the cell parsers turn one cell into
a value or a message for whoever typed it, quoting at most 80 characters of it; and the
Problem every check reports. Rows are numbered as a spreadsheet shows them: the header is
row 1, the first data row 2.
"""

import gc
import re
import uuid as uuid_module
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.utils import get_column_letter

from worklog.rules import amount_errors
from worklog.spreadsheets import restore_formula_text

CENT = Decimal("0.01")
LIST_SEPARATOR = re.compile(r"[;；]")  # a Chinese keyboard types the full-width one
# 2017-06-01, 2017/6/1 (as Excel re-saves it), 2017.6.1 and 2017年6月1日 (as Chinese users type)
DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
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


def _file_problem(message):
    return ImportRejected([Problem(None, "file", message)])


def shown(text, length=80):
    """A cell's text as a message quotes it: at most `length` characters."""
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


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
            problems.append(Problem(1, shown(written[index], 40), _(
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


def _number(cell, problem, check):
    """The cell as a Decimal that `check` accepts (it raises _Bad otherwise); `problem` (a
    message id) says what the cell should have been. A number cell (a float, as LibreOffice
    and Excel store every number) counts as the 15 significant digits a spreadsheet keeps
    and shows: 1234.56 is 1234.56 yuan, and =0.1*3 is 0.3, not 0.30000000000000004."""
    try:
        if isinstance(cell, bool):
            raise InvalidOperation
        number = Decimal(format(cell, ".15g") if isinstance(cell, float) else str(cell).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise _Bad(_(problem) % {"value": shown(cell)}) from None
    check(number)
    return number


def range_problem(error):
    """A range rule's ValidationError (Django's MinValueValidator(0) or MaxValueValidator) in
    the words of a file's problems."""
    if error.code == "min_value":
        return _("Must be 0 or more.")
    if error.code == "max_value":
        return _("Must be at most %(maximum)s.") % {"maximum": f"{error.params['limit_value']:,}"}
    return error.messages[0]


def at_most(maximum):
    """A check for _whole and _funds: from 0 to `maximum` (a household's size)."""
    validators = (MinValueValidator(0), MaxValueValidator(maximum))

    def check(number):
        for validator in validators:
            try:
                validator(number)
            except ValidationError as error:
                raise _Bad(range_problem(error)) from None
    return check


def figure_in_range(name):
    """A check for _whole and _funds: the range worklog.rules gives an entry's figure `name`."""
    def check(number):
        for _name, error in amount_errors({name: number}):
            raise _Bad(range_problem(error))
    return check


def _whole(cell, check):
    if _blank(cell):
        return 0
    number = _number(cell, NOT_WHOLE, check)
    if number != number.to_integral_value():
        raise _Bad(_(NOT_WHOLE) % {"value": shown(cell)})
    return int(number)


def _funds(cell, check):
    if _blank(cell):
        return Decimal("0.00")
    amount = _number(cell, gettext_noop("“%(value)s” is not an amount of yuan."), check)
    if amount != amount.quantize(CENT):
        raise _Bad(_("At most 2 decimal places."))
    return amount.quantize(CENT)


def _day(cell):
    """A real spreadsheet date, or text YYYY-MM-DD or as DATE_TEXT allows."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    match = DATE_TEXT.fullmatch(text)
    try:
        return date(*(int(part) for part in match.groups()))
    except (AttributeError, ValueError):
        raise _Bad(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": shown(text)}) from None


def _uuid(cell):
    if _blank(cell):
        return None
    try:
        return uuid_module.UUID(_text(cell))
    except ValueError:
        raise _Bad(_("“%(value)s” is not a uuid.") % {"value": shown(_text(cell))}) from None


def _names(cell):
    """The names of a `;`-separated cell in their order, as given (a name given twice is
    there twice)."""
    text = _text(cell)
    if ";" not in text and "；" not in text:
        return [text] if text else []  # one name, the common case
    return [name for name in (name.strip() for name in LIST_SEPARATOR.split(text)) if name]


def house_numbers_by_value(keys):
    """{(village id, value): [house numbers]} of the (village id, house number)s written in
    digits: 99 → ["99", "0099"]."""
    by_value = defaultdict(list)
    for village_id, number in sorted(keys, key=lambda key: (len(key[1]), key[1])):
        if number.isascii() and number.isdigit():
            by_value[village_id, int(number)].append(number)
    return by_value


def house_number_text(cell, village_id, by_value):
    """The house number a cell means. A cell that was a number in the file (LibreOffice and
    Excel turn "0099" into 99) means the one house number of the village of that value
    (`by_value`: see house_numbers_by_value); several of that value are a problem naming them."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer():
        candidates = by_value.get((village_id, int(cell)), ())
        if len(candidates) > 1:
            raise _Bad(_("%(number)s was a number in the file, which matches the house numbers "
                         "%(numbers)s; write the house number as text (in a text cell, or after "
                         "an apostrophe).") % {"number": int(cell), "numbers": _quoted(candidates)})
        if candidates:
            return candidates[0]
    return _text(cell)


def _quoted(names):
    return "、".join(f"“{shown(name)}”" for name in names)


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

