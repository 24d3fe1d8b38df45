"""Checking a file of entries: each row against the notebook's rules (worklog.rules, called
once per distinct value where a rule reads one cell), its uuid given
or derived from its content, and whether it is stored already. The checks take a handful
of queries whatever the file's length: the teams, the activities, the households of the
teams' villages, the existing uuids one chunk at a time, and the locked months
(worklog.locking.locked_months). Only a file without a single problem is written, in one
transaction (worklog.imports.writing).
"""

import json
import uuid as uuid_module
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Household, Team, Village
from worklog.imports.columns import ENTRY_COLUMNS, ENTRY_REQUIRED, ActivityNames
from worklog.imports.reading import (
    ImportRejected,
    Problem,
    _Bad,
    _blank,
    _day,
    _file_problem,
    _funds,
    _in_order,
    _limited,
    _names,
    _normalise,
    _quoted,
    _records,
    _remembered,
    _required,
    _Row,
    _text,
    _uuid,
    _whole,
    figure_in_range,
    house_number_text,
    house_numbers_by_value,
    many_objects,
    shown,
)
from worklog.imports.sheets import read_sheet
from worklog.imports.writing import _write_entries
from worklog.locking import locked_months, month_name
from worklog.models import Activity, Amendment, Entry
from worklog.rules import AMOUNTS, COUNTS, date_error, measure_errors, repeated_households_error

# Fixed for good: uuids derived from a row's content must come out the same next year.
ROW_NAMESPACE = uuid_module.UUID("2cf8bae2-3d28-4ed6-b6e8-5059e3abcc39")
UUID_CHUNK = 2000


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
        self.activities = ActivityNames(Activity.objects.all())
        villages = {team.village_id for team in self.teams.values()}
        self.households = {
            (village_id, number): pk
            for village_id, number, pk in Household.objects.filter(
                village_id__in=villages
            ).values_list("village_id", "house_number", "pk")
        }
        self.today = timezone.localdate()
        # A long file repeats its dates, teams, activities and amounts: each distinct cell
        # is parsed (and its figure's range checked) once, each distinct household cell once
        # per village, the date rule once per team and date, the measures rule once per
        # activity and set of figures given.
        self.parse = {
            "date": _remembered(_required(_day)), "team": _remembered(self.team_of),
            "activity": _remembered(self.activity_of),
            "funds": _remembered(lambda cell, check=figure_in_range("funds"): _funds(cell, check)),
            **{name: _remembered(lambda cell, check=figure_in_range(name): _whole(cell, check))
               for name in COUNTS},
            "title": _limited(200), "notes": _limited(5000), "uuid": _uuid,
        }
        self.household_parsers = {}
        self.numbers_by_value = None
        self.date_problems = {}  # (team, date) → the date rule's problem, or None
        self.measure_problems = {}  # (activity, figures given, households given) → problems

    def check(self, number, record):
        """(EntryRow, []) for a good row, (None, [Problem]) for a bad one."""
        row = _Row(number, record, ENTRY_COLUMNS)
        parse = self.parse
        day = row.cell("date", parse["date"])
        team = row.cell("team", parse["team"])
        village = team and row.cell("village", lambda cell: self.village_of(cell, team))
        activity = row.cell("activity", parse["activity"])
        households = village and row.cell("households", lambda cell: self.households_of(cell, village))
        counts = {name: row.cell(name, parse[name]) for name in COUNTS}
        funds = row.cell("funds", parse["funds"])
        title = row.cell("title", parse["title"])
        notes = row.cell("notes", parse["notes"])
        given_uuid = row.cell("uuid", parse["uuid"])
        if day:
            problem = self.date_problem(team, day)
            if problem:
                row.add("date", problem)
        if activity:
            for name, problem in self.measure_problems_of(activity, {**counts, "funds": funds}, households):
                row.add(name, problem)
        if row.problems:
            return None, row.sorted_problems()
        return EntryRow(
            number=number, date=day, team=team, village=village, activity=activity,
            households=households, funds=funds, title=title, notes=notes, uuid=given_uuid,
            **counts,
        ), []

    def team_of(self, cell):
        # A team the user may not import for is as unknown as one that does not exist.
        if _blank(cell):
            raise _Bad(_("This value is required."))
        team = self.teams.get(_text(cell))
        if team is None:
            raise _Bad(_("Unknown team “%(slug)s”.") % {"slug": shown(_text(cell))})
        return team

    def village_of(self, cell, team):
        slug = _text(cell)
        if slug and slug != team.village.slug:
            raise _Bad(_("“%(slug)s” is not the village of team “%(team)s”; leave it empty or "
                         "write “%(village)s”.") % {"slug": shown(slug), "team": team.slug,
                                                   "village": team.village.slug})
        return team.village

    def activity_of(self, cell):
        if _blank(cell):
            raise _Bad(_("This value is required."))
        return self.activities.named(_text(cell))

    def households_of(self, cell, village):
        parse = self.household_parsers.get(village.pk)
        if parse is None:
            parse = self.household_parsers[village.pk] = _remembered(
                lambda cell: self.households_in(cell, village))
        return parse(cell)

    def households_in(self, cell, village):
        if isinstance(cell, str) or cell is None:
            given = _names(cell)
        else:  # a number in the file: one house number, perhaps with its zeros lost
            given = [house_number_text(cell, village.pk, self.by_value())]
        numbers = list(dict.fromkeys(given))
        # Households of the team's village: a house number means one only within its village.
        unknown = [number for number in numbers if (village.pk, number) not in self.households]
        problems = []
        if unknown:
            problems.append(_("No household %(numbers)s in village “%(village)s”.")
                            % {"numbers": _quoted(unknown), "village": village.slug})
        twice = len(given) > len(numbers) and repeated_households_error(given)
        if twice:
            problems.append(twice.messages[0])
        if problems:
            raise _Bad(" ".join(problems))
        return [(number, self.households[village.pk, number]) for number in numbers]

    def by_value(self):
        if self.numbers_by_value is None:  # only a file with house numbers as numbers needs it
            self.numbers_by_value = house_numbers_by_value(self.households)
        return self.numbers_by_value

    def date_problem(self, team, day):
        key = (team and team.pk, day)
        if key not in self.date_problems:
            error = date_error(team, day, self.today)
            self.date_problems[key] = error and error.messages[0]
        return self.date_problems[key]

    def measure_problems_of(self, activity, amounts, households):
        """[(column, problem)]; the rule answers alike for rows that give the same figures."""
        given = tuple(name for name in AMOUNTS if amounts[name])
        key = (activity.pk, given, None if households is None else bool(households))
        problems = self.measure_problems.get(key)
        if problems is None:
            problems = self.measure_problems[key] = [
                (name, _("Give at least one house number (separated by “;”).")
                 if error.code == "households_required" else error.messages[0])
                for name, error in measure_errors(activity, amounts, households)
            ]
        return problems


@many_objects()
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
    months = [((row.team.pk, row.date.year, row.date.month), row) for row in plan.new_rows]
    locked = locked_months(month for month, _row in months)
    plan.problems += [
        Problem(row.number, "date", _(
            "%(month)s is reported for team “%(team)s” and locked; file an amendment instead.")
            % {"month": month_name(row.date.year, row.date.month), "team": row.team.slug})
        for month, row in months if month in locked
    ]
    plan.problems = _in_order(plan.problems)
    return plan


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
        # A uuid filed with an amendment is held for the entry that amendment would create.
        problems += [Problem(waiting[held].number, "uuid", _(
            "This uuid belongs to a different entry; leave it empty or give a new one."))
            for held in Amendment.objects.filter(uuid__in=uuids[start:start + UUID_CHUNK])
            .values_list("uuid", flat=True)]
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


@many_objects()
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

