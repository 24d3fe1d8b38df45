"""Bringing spreadsheets in: the rules and bulk writes behind `manage.py import_entries`,
`manage.py import_households` and the import pages (DESIGN §6, a contract).

A file (.csv in UTF-8 with or without a byte-order mark, or in GB18030 as Chinese Excel
saves it; or .xlsx) is read whole and every row is checked against the notebook form's
rules with a handful of queries: the teams, the activities, the households of the teams'
villages, and the existing uuids one chunk at a time. Only a file without a single problem
is written, in one transaction: entries, their household links and their audit rows by
bulk inserts, and the tallies by one upsert per tally key (worklog.tallies' own SQL).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
"""

import codecs
import csv
import io
import json
import re
import uuid as uuid_module
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

import openpyxl
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.utils import get_column_letter
from psycopg2.extras import execute_batch

from teams.models import Household, HouseholdTag, Team, Village
from worklog.forms import MAX_COUNT, MAX_FUNDS, MEASURE_LABELS
from worklog.locking import month_name
from worklog.models import Activity, Entry, LockedTeamMonth
from worklog.tallies import HOUSEHOLD_UPSERT, TALLY_UPSERT

ENTRY_COLUMNS = ("date", "team", "village", "activity", "households", "participants",
                 "sessions", "quantity", "funds", "title", "notes", "uuid")
ENTRY_REQUIRED = ("date", "team", "activity")
HOUSEHOLD_COLUMNS = ("village", "house_number", "head_name", "size", "phone", "tags", "notes")
HOUSEHOLD_REQUIRED = ("village", "house_number", "head_name")
COUNTS = ("participants", "sessions", "quantity")
# Fixed for good: uuids derived from a row's content must come out the same next year.
ROW_NAMESPACE = uuid_module.UUID("2cf8bae2-3d28-4ed6-b6e8-5059e3abcc39")
UUID_CHUNK = 2000
BATCH_SIZE = 2000
CHANGE_REASON = "import"
CENT = Decimal("0.01")
MAX_SIZE = 32767  # Household.size is a small integer
MAX_COLUMNS = 64  # cells further right are not read
# The notebook's export guards cells a spreadsheet would run as formulas with a leading
# apostrophe (worklog.tables); an import takes the guard off again.
FORMULA_STARTS = ("=", "+", "-", "@")
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
        if all(_blank(cell) for cell in cells):
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


def _normalise(text):
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _text(cell):
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a house number or phone typed as a number
    text = _normalise(str(cell))
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


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
    names = [name.strip() for name in LIST_SEPARATOR.split(_text(cell))]
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


# --- entries ---------------------------------------------------------------------------------


@dataclass
class EntryRow:
    """One good row of an entries file, resolved to the database's objects."""

    number: int
    date: date
    team: Team
    village: Village
    activity: Activity
    households: list  # [(house number, household id)] as the file gives them
    participants: int
    sessions: int
    quantity: int
    funds: Decimal
    title: str
    notes: str
    uuid: object  # given in the file, or derived from the content
    present: bool = False  # already in the database, or earlier in the file

    @property
    def household_ids(self):
        return tuple(sorted(pk for _number, pk in self.households))

    @property
    def house_numbers(self):
        return ";".join(number for number, _pk in self.households)

    def content(self):
        """What an existing entry with this uuid must match to count as this row."""
        return (self.team.pk, self.village.pk, self.date, self.activity.pk, self.household_ids,
                self.participants, self.sessions, self.quantity, self.funds, self.title,
                self.notes)

    def canonical(self):
        """The content in the file's own terms, which a re-import of the file finds again."""
        return json.dumps([
            self.date.isoformat(), self.team.slug, self.village.slug, self.activity.code,
            sorted(number for number, _pk in self.households), self.participants,
            self.sessions, self.quantity, str(self.funds), self.title, self.notes,
        ], ensure_ascii=False)

    def as_entry(self, author):
        return Entry(
            uuid=self.uuid, team=self.team, village=self.village, author=author, date=self.date,
            activity=self.activity, title=self.title, notes=self.notes,
            participants=self.participants, sessions=self.sessions, quantity=self.quantity,
            funds=self.funds,
        )


@dataclass
class ActivitySums:
    """What the new entries of one activity add to the totals."""

    activity: Activity
    entries: int = 0
    household_visits: int = 0
    participants: int = 0
    sessions: int = 0
    quantity: int = 0
    funds: Decimal = Decimal("0.00")

    def add(self, row):
        self.entries += 1
        self.household_visits += len(row.households)
        for name in ("participants", "sessions", "quantity", "funds"):
            setattr(self, name, getattr(self, name) + getattr(row, name))


@dataclass
class EntryPlan:
    """What importing a file of entries would do: its good rows and every problem."""

    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def new_rows(self):
        return [row for row in self.rows if not row.present]

    @property
    def present_count(self):
        return sum(row.present for row in self.rows)

    def summary(self):
        return _("%(new)s new, %(present)s already present") % {
            "new": len(self.new_rows), "present": self.present_count,
        }

    def sums_by_activity(self):
        sums = {}
        for row in self.new_rows:
            sums.setdefault(row.activity.pk, ActivitySums(row.activity)).add(row)
        return sorted(sums.values(), key=lambda s: (s.activity.order, s.activity.code))


class _EntryRules:
    """The notebook form's rules for rows of a file, with everything they need in dicts."""

    def __init__(self, records, teams):
        slugs = {_text(record.get("team")) for _number, record in records}
        teams = Team.objects.all() if teams is None else teams
        self.teams = {team.slug: team for team in teams.filter(slug__in=slugs).select_related("village")}
        self.activities = {activity.code: activity for activity in Activity.objects.all()}
        self.locked = _hold_and_read_locks([team.pk for team in self.teams.values()])
        villages = {team.village_id for team in self.teams.values()}
        self.households = {
            (village_id, number): pk
            for village_id, number, pk in Household.objects.filter(
                village_id__in=villages
            ).values_list("village_id", "house_number", "pk")
        }
        self.today = timezone.localdate()

    def check(self, number, record):
        """(EntryRow, []) for a good row, (None, [Problem]) for a bad one."""
        row = _Row(number, record, ENTRY_COLUMNS)
        day = row.cell("date", self.required_day)
        team = row.cell("team", self.team_of)
        village = team and row.cell("village", lambda cell: self.village_of(cell, team))
        activity = row.cell("activity", self.activity_of)
        households = village and row.cell("households", lambda cell: self.households_of(cell, village))
        counts = {name: row.cell(name, _whole) for name in COUNTS}
        funds = row.cell("funds", _funds)
        title = row.cell("title", self.title)
        notes = row.cell("notes", self.notes)
        given_uuid = row.cell("uuid", _uuid)
        if day and day > self.today:
            row.add("date", _("The date cannot be in the future."))
        elif day and team and not team.is_deployed_on(day):
            row.add("date", _("The team was not deployed on %(date)s.") % {"date": day})
        if activity:
            self.check_measures(row, activity, {**counts, "funds": funds}, households)
        if row.problems:
            return None, row.sorted_problems()
        return EntryRow(
            number=number, date=day, team=team, village=village, activity=activity,
            households=households, funds=funds, title=title, notes=notes, uuid=given_uuid,
            **counts,
        ), []

    required_day = staticmethod(_required(_day))
    title = staticmethod(_limited(200))
    notes = staticmethod(_limited(5000))

    def team_of(self, cell):
        # A team the user may not import for is as unknown as one that does not exist.
        if _blank(cell):
            raise _Bad(_("This value is required."))
        team = self.teams.get(_text(cell))
        if team is None:
            raise _Bad(_("Unknown team “%(slug)s”.") % {"slug": _text(cell)})
        return team

    def village_of(self, cell, team):
        slug = _text(cell)
        if slug and slug != team.village.slug:
            raise _Bad(_("“%(slug)s” is not the village of team “%(team)s”; leave it empty or "
                         "write “%(village)s”.") % {"slug": slug, "team": team.slug,
                                                   "village": team.village.slug})
        return team.village

    def activity_of(self, cell):
        if _blank(cell):
            raise _Bad(_("This value is required."))
        activity = self.activities.get(_text(cell))
        if activity is None:
            raise _Bad(_("Unknown activity “%(code)s”.") % {"code": _text(cell)})
        return activity

    def households_of(self, cell, village):
        numbers, twice = _names(cell)
        unknown = [number for number in numbers if (village.pk, number) not in self.households]
        problems = []
        if unknown:
            problems.append(_("No household %(numbers)s in village “%(village)s”.")
                            % {"numbers": _quoted(unknown), "village": village.slug})
        if twice:
            problems.append(_("Household %(numbers)s is given twice.") % {"numbers": _quoted(twice)})
        if problems:
            raise _Bad(" ".join(problems))
        return [(number, self.households[village.pk, number]) for number in numbers]

    @staticmethod
    def check_measures(row, activity, amounts, households):
        used = set(activity.measures_used())
        for name, amount in amounts.items():
            if amount and name not in used:
                row.add(name, _("%(activity)s does not record %(measure)s.") % {
                    "activity": activity.label, "measure": MEASURE_LABELS[name]})
        if households and "households" not in used:
            row.add("households", _("%(activity)s does not record %(measure)s.") % {
                "activity": activity.label, "measure": MEASURE_LABELS["households"]})
        elif households == [] and "households" in used:
            row.add("households", _("Give at least one house number (separated by “;”)."))


def plan_entries(*, name, content, teams=None, max_rows=None):
    """Read and check a file of entries, writing nothing. `teams`: those the importing
    user may import for (None: every team)."""
    try:
        lines = read_sheet(name, content, max_rows)
        records, problems = _records(lines, ENTRY_COLUMNS, ENTRY_REQUIRED)
    except ImportRejected as rejected:
        return EntryPlan(problems=rejected.problems)
    rules = _EntryRules(records, teams)
    plan = EntryPlan(problems=problems)
    for number, record in records:
        row, row_problems = rules.check(number, record)
        if row is not None:
            plan.rows.append(row)
        plan.problems += row_problems
    plan.problems += _settle_uuids(plan.rows)
    plan.problems += _match_stored(plan.rows)
    plan.problems += [
        Problem(row.number, "date", _(
            "%(month)s is reported for team “%(team)s” and locked; file an amendment instead.")
            % {"month": month_name(row.date.year, row.date.month), "team": row.team.slug})
        for row in plan.new_rows if (row.team.pk, row.date.year, row.date.month) in rules.locked
    ]
    plan.problems = _in_order(plan.problems)
    return plan


def _hold_and_read_locks(team_ids):
    """The teams' locked (team id, year, month)s. Like worklog.locking.ensure_open, share-
    lock the team rows first: a month being locked meanwhile waits for this import's
    transaction, or this import sees the lock."""
    if connection.vendor == "postgresql" and team_ids:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Team._meta.db_table} WHERE id = ANY(%s) "
                           f"ORDER BY id FOR SHARE", [sorted(team_ids)])
    return set(LockedTeamMonth.objects.filter(team_id__in=team_ids)
               .values_list("team_id", "year", "month"))


def _settle_uuids(rows):
    """Derive the missing uuids; a uuid given twice in the file must mean the same entry."""
    problems, occurrences, first = [], Counter(), {}
    for row in rows:
        if row.uuid is None:
            # Identical rows are distinct visits: their occurrence number keeps them apart.
            canonical = row.canonical()
            row.uuid = uuid_module.uuid5(ROW_NAMESPACE, f"{canonical}#{occurrences[canonical]}")
            occurrences[canonical] += 1
        earlier = first.setdefault(row.uuid, row)
        if earlier is row:
            continue
        if earlier.content() == row.content():
            row.present = True
        else:
            problems.append(Problem(row.number, "uuid", _(
                "Row %(row)s has the same uuid with different content.") % {"row": earlier.number}))
    return problems


def _match_stored(rows):
    """Mark rows whose uuid is stored with the same content (deleted or not) as present;
    a uuid stored with other content, or for another team, is a problem that tells nothing
    about that entry."""
    waiting = {}
    for row in rows:
        if not row.present:
            waiting.setdefault(row.uuid, row)  # a later row with the uuid is a problem already
    uuids, problems = list(waiting), []
    fields = ("team_id", "village_id", "date", "activity_id", "participants", "sessions",
              "quantity", "funds", "title", "notes")
    for start in range(0, len(uuids), UUID_CHUNK):
        stored = list(Entry.objects.filter(uuid__in=uuids[start:start + UUID_CHUNK])
                      .values("pk", "uuid", *fields))
        links = defaultdict(list)
        for entry_id, household_id in Entry.households.through.objects.filter(
            entry_id__in=[values["pk"] for values in stored]
        ).values_list("entry_id", "household_id"):
            links[entry_id].append(household_id)
        for values in stored:
            row = waiting[values["uuid"]]
            content = (*(values[name] for name in fields[:4]), tuple(sorted(links[values["pk"]])),
                       *(values[name] for name in fields[4:8]),
                       _normalise(values["title"]), _normalise(values["notes"]))
            if content == row.content():
                row.present = True
            else:
                problems.append(Problem(row.number, "uuid", _(
                    "This uuid belongs to a different entry; leave it empty or give a new one.")))
    return problems


@transaction.atomic
def entries_import(*, name, content, teams=None, author=None, max_rows=None):
    """Import a file of entries all or nothing; returns the plan, raises ImportRejected."""
    plan = plan_entries(name=name, content=content, teams=teams, max_rows=max_rows)
    if plan.problems:
        raise ImportRejected(plan.problems)
    try:
        with transaction.atomic():
            _write_entries(plan.new_rows, author)
    except IntegrityError:
        raise _file_problem(_("Some of these entries were saved by someone else meanwhile; "
                              "nothing was imported. Run the import again.")) from None
    return plan


def _write_entries(rows, author):
    """Insert the entries, their household links, the audit rows of both, and the tallies.

    Plain multi-row INSERTs rather than `bulk_create` / `bulk_create_with_history`: those
    build a model instance per entry, link and audit row in Python, which took most of a
    100,000-row import's time, and `bulk_create_with_history` leaves the household links
    unaudited. The audit rows are the ones django-simple-history writes ("+", user, date,
    reason), copied from the new rows by INSERT … SELECT.
    """
    now = timezone.now()
    ops = connection.ops
    uuid_field = Entry._meta.get_field("uuid")
    columns = ("uuid", "team_id", "village_id", "author_id", "date", "activity_id", "title",
               "notes", "participants", "sessions", "quantity", "funds", "created_at",
               "updated_at", "version")
    stamp = ops.adapt_datetimefield_value(now)
    author_id = author.pk if author is not None else None
    returned = _insert(Entry, columns, [
        (uuid_field.get_db_prep_value(row.uuid, connection), row.team.pk, row.village.pk,
         author_id, ops.adapt_datefield_value(row.date), row.activity.pk, row.title, row.notes,
         row.participants, row.sessions, row.quantity,
         ops.adapt_decimalfield_value(row.funds, 14, 2), stamp, stamp, 1)
        for row in rows
    ], returning=("id", "uuid"))
    ids = {uuid_module.UUID(str(key)): pk for pk, key in returned}
    entry_ids = [ids[row.uuid] for row in rows]
    _insert(Entry.households.through, ("entry_id", "household_id"), [
        (entry_id, household_id)
        for entry_id, row in zip(entry_ids, rows) for household_id in row.household_ids
    ])
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        _audit(entry_ids, author_id, stamp)
    add_to_tallies(rows)


def _insert(model, columns, rows, returning=()):
    """INSERT plain tuples, as many a statement as the database takes; returns the rows of
    the `returning` columns."""
    quote = connection.ops.quote_name
    per_statement = max(1, min(BATCH_SIZE, _max_params() // len(columns)))
    head = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"VALUES ")
    values = "(" + ", ".join(["%s"] * len(columns)) + ")"
    tail = f" RETURNING {', '.join(map(quote, returning))}" if returning else ""
    returned = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start:start + per_statement]
            cursor.execute(head + ", ".join([values] * len(batch)) + tail,
                           [value for row in batch for value in row])
            if returning:
                returned += cursor.fetchall()
    return returned


def _max_params():
    return connection.features.max_query_params or 2 ** 15  # PostgreSQL: no set limit


def _audit(entry_ids, author_id, stamp):
    """The audit rows of new entries and of their household links."""
    History = Entry.history.model
    HistoricalLink = History.households.model
    Link = Entry.households.through
    quote = connection.ops.quote_name
    history, entries = quote(History._meta.db_table), quote(Entry._meta.db_table)
    tracked = ", ".join(quote(field.column) for field in History.tracked_fields)
    extra = ", ".join(quote(History._meta.get_field(name).column) for name in (
        "history_date", "history_change_reason", "history_type", "history_user"))
    link_columns = ", ".join(quote(field.column) for field in Link._meta.concrete_fields)
    copied_links = ", ".join(f"l.{quote(field.column)}" for field in Link._meta.concrete_fields)
    per_statement = _max_params() - 5
    with connection.cursor() as cursor:
        for start in range(0, len(entry_ids), per_statement):
            batch = entry_ids[start:start + per_statement]
            among = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"INSERT INTO {history} ({tracked}, {extra}) SELECT {tracked}, %s, %s, %s, %s "
                f"FROM {entries} WHERE id IN ({among})",
                [stamp, CHANGE_REASON, "+", author_id, *batch],
            )
            cursor.execute(
                f"INSERT INTO {quote(HistoricalLink._meta.db_table)} ({link_columns}, "
                f"{quote(HistoricalLink._meta.get_field('history').column)}) "
                f"SELECT {copied_links}, h.history_id FROM {quote(Link._meta.db_table)} l "
                f"JOIN {history} h ON h.id = l.entry_id AND h.history_type = %s "
                f"WHERE l.entry_id IN ({among})",
                ["+", *batch],
            )


def add_to_tallies(rows):
    """Add new live entries to the tallies: their contributions summed per tally key and
    per household key in Python, then one upsert per key."""
    sums = defaultdict(lambda: [0, 0, 0, 0, Decimal("0.00"), 0])
    visits = Counter()
    for row in rows:
        key = (row.date.year, row.date.month, row.team.pk, row.village.pk, row.activity.pk)
        for index, amount in enumerate((1, row.participants, row.sessions, row.quantity,
                                        row.funds, len(row.households))):
            sums[key][index] += amount
        for household_id in row.household_ids:
            visits[(*key[:2], household_id, *key[2:])] += 1
    with connection.cursor() as cursor:
        for sql, params in ((TALLY_UPSERT, [[*key, *values] for key, values in sums.items()]),
                            (HOUSEHOLD_UPSERT, [[*key, count] for key, count in visits.items()])):
            if connection.vendor == "postgresql":
                # psycopg2's executemany makes a round trip per row; this sends pages of them.
                execute_batch(cursor.cursor, sql, params, page_size=BATCH_SIZE)
            else:
                cursor.executemany(sql, params)


# --- households ------------------------------------------------------------------------------


@dataclass
class HouseholdRow:
    """One good row of a households file. `values` holds only the columns the file has
    (an empty size keeps the stored one); `tags` is None without a tags column."""

    number: int
    village: Village
    house_number: str
    values: dict
    tags: list | None
    household: Household | None  # the stored one, or None for a new household
    status: str = "new"  # new, updated or unchanged
    tags_changed: bool = False

    def __post_init__(self):
        stored = self.household
        self.tags_changed = self.tags is not None and (
            stored is None or set(self.tags) != set(stored.tags.all())
        )
        if stored is not None:
            changed = any(getattr(stored, name) != value for name, value in self.values.items())
            self.status = "updated" if changed or self.tags_changed else "unchanged"


@dataclass
class HouseholdPlan:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def counts(self):
        return Counter(row.status for row in self.rows)

    def summary(self):
        counts = self.counts()
        return _("%(new)s new, %(updated)s updated, %(unchanged)s unchanged") % {
            "new": counts["new"], "updated": counts["updated"], "unchanged": counts["unchanged"],
        }


def plan_households(*, name, content, villages=None, max_rows=None):
    """Read and check a file of households, writing nothing. `villages`: those the
    importing user may import into (None: every village)."""
    try:
        lines = read_sheet(name, content, max_rows)
        records, problems = _records(lines, HOUSEHOLD_COLUMNS, HOUSEHOLD_REQUIRED)
    except ImportRejected as rejected:
        return HouseholdPlan(problems=rejected.problems)
    villages = Village.objects.all() if villages is None else villages
    slugs = {_text(record.get("village")) for _number, record in records}
    villages = {village.slug: village for village in villages.filter(slug__in=slugs)}
    stored = {
        (household.village_id, household.house_number): household
        for household in Household.objects.filter(village__in=villages.values()).prefetch_related("tags")
    }
    tags = {}
    for tag in HouseholdTag.objects.all():
        tags.update({tag.name: tag, **({tag.name_en: tag} if tag.name_en else {})})
    plan, seen = HouseholdPlan(problems=problems), {}
    for number, record in records:
        row = _Row(number, record, HOUSEHOLD_COLUMNS)
        village = row.cell("village", _required(lambda cell: _known(villages, cell, _(
            "Unknown village “%(name)s”."))))
        house_number = row.cell("house_number", _required(_limited(20)))
        values = {"head_name": row.cell("head_name", _required(_limited(100)))}
        if not _blank(record.get("size")):
            values["size"] = row.cell("size", lambda cell: _whole(cell, MAX_SIZE))
        for column, length in (("phone", 30), ("notes", 5000)):
            if column in record:
                values[column] = row.cell(column, _limited(length))
        its_tags = row.cell("tags", lambda cell: _tags(tags, cell)) if "tags" in record else None
        key = village and house_number and (village.pk, house_number)
        if key in seen:
            row.add("house_number", _("Row %(row)s has the same household.") % {"row": seen[key]})
        if row.problems:
            plan.problems += row.sorted_problems()
            continue
        seen[key] = number
        plan.rows.append(HouseholdRow(number, village, house_number, values, its_tags, stored.get(key)))
    plan.problems = _in_order(plan.problems)
    return plan


def _known(objects, cell, message):
    found = objects.get(_text(cell))
    if found is None:
        raise _Bad(message % {"name": _text(cell)})
    return found


def _tags(tags, cell):
    names, _twice = _names(cell)
    unknown = [name for name in names if name not in tags]
    if unknown:
        raise _Bad(_("Unknown tag %(names)s; tags are defined by the administrator.")
                   % {"names": _quoted(unknown)})
    return [tags[name] for name in names]


@transaction.atomic
def households_import(*, name, content, villages=None, user=None, max_rows=None):
    """Import a file of households all or nothing: new house numbers are added, stored
    ones updated (each change audited). Returns the plan, raises ImportRejected."""
    plan = plan_households(name=name, content=content, villages=villages, max_rows=max_rows)
    if plan.problems:
        raise ImportRejected(plan.problems)
    try:
        with transaction.atomic():
            for row in plan.rows:
                if row.status == "unchanged":
                    continue
                household = row.household or Household(village=row.village, house_number=row.house_number)
                for attribute, value in row.values.items():
                    setattr(household, attribute, value)
                household._history_user = user
                household.save()
                if row.tags_changed:
                    household.tags.set(row.tags)
    except IntegrityError:
        raise _file_problem(_("Some of these households were saved by someone else meanwhile; "
                              "nothing was imported. Run the import again.")) from None
    return plan
