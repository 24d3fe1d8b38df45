"""The entries template: an .xlsx file to fill in LibreOffice or Excel and import as it is.

Its first sheet, the only one the import reads, has the import's header (worklog.imports.columns,
the names the import checks) and nothing else: the columns formatted (dates as dates, house
numbers as text so "0099" keeps its zeros), drop-down lists of the activities and teams.
The examples are on a sheet of their own, which the import never reads, so a row left there
cannot be imported by accident, and no rule has to tell an example from a real row whose
title happens to say so. Further sheets explain the columns and the activities (which columns
each records), and list the teams and the households the user may import for.

The sheets' names and the explanations are in the user's language; the header is the
import's, the same in every language.
"""

import io

import openpyxl
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from teams.models import Household
from worklog.imports.columns import ENTRY_SPEC
from worklog.models import Activity
from worklog.spreadsheets import neutralise_formula

MAX_HOUSEHOLDS = 5000  # a coordinator of a region would get a file nobody reads
FILLED_ROWS = 1000  # rows of the entries sheet that get the drop-down lists and checks
MEASURES = ("households", "participants", "sessions", "quantity", "funds")
FORMATS = {"date": "yyyy-mm-dd", "text": "@", "count": "0", "funds": "#,##0.00"}
WIDTHS = {"date": 12, "text": 16, "count": 12, "funds": 14}
WIDE = {"activity": 22, "title": 24, "notes": 24, "uuid": 38}  # by column: what they hold
BOLD = Font(bold=True)
REQUIRED = PatternFill("solid", fgColor="FFF2CC")
WRAPPED = Alignment(wrap_text=True, vertical="top")


def sheet_names():
    return {
        "entries": pgettext("template sheet", "Entries"),
        "examples": pgettext("template sheet", "Examples"),
        "columns": pgettext("template sheet", "Columns"),
        "activities": pgettext("template sheet", "Activities"),
        "teams": pgettext("template sheet", "Teams"),
        "households": pgettext("template sheet", "Households"),
    }


def entries_template(*, teams):
    """The template's bytes for a user who may import for `teams` (a queryset)."""
    names = sheet_names()
    teams = list(teams.select_related("village").order_by("name", "pk"))
    activities = list(Activity.objects.filter(is_active=True))
    workbook = openpyxl.Workbook()
    entries = workbook.active
    entries.title = names["entries"]
    _entry_header(entries, names)
    _lists(entries, names, activities=len(activities), teams=len(teams))
    examples = workbook.create_sheet(names["examples"])
    _entry_header(examples, names)
    _examples(examples, activities, teams)
    _columns(workbook.create_sheet(names["columns"]), names)
    _activities(workbook.create_sheet(names["activities"]), activities)
    _teams(workbook.create_sheet(names["teams"]), teams)
    _households(workbook.create_sheet(names["households"]), teams)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def _entry_header(sheet, names):
    """The import's header, each name explained in a comment; required columns shaded."""
    for index, column in enumerate(ENTRY_SPEC, start=1):
        cell = sheet.cell(row=1, column=index, value=column.name)
        cell.font = BOLD
        help_text = str(column.help) % names
        if column.required:
            cell.fill = REQUIRED
            help_text = _("Required.") + " " + help_text
        cell.comment = Comment(help_text, "Team Worklog", width=260, height=110)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = WIDE.get(column.name, WIDTHS[column.kind])
        sheet.column_dimensions[letter].number_format = FORMATS[column.kind]
    sheet.freeze_panes = "A2"


def _lists(sheet, names, *, activities, teams):
    """Drop-down lists of the activities' names and the teams' codes, and range checks; a
    warning, not a refusal, for a value off the list (the import takes codes too)."""
    letters = {column.name: get_column_letter(index) for index, column in enumerate(ENTRY_SPEC, 1)}

    def check(column, **rule):
        validation = DataValidation(allow_blank=True, showErrorMessage=True, **rule)
        validation.add(f"{letters[column]}2:{letters[column]}{FILLED_ROWS + 1}")
        sheet.add_data_validation(validation)

    if activities:
        check("activity", type="list", errorStyle="warning",
              formula1=f"{quote_sheetname(names['activities'])}!$A$2:$A${activities + 1}",
              error=_("Choose an activity from the list, or write its code."))
    if teams:
        check("team", type="list", errorStyle="warning",
              formula1=f"{quote_sheetname(names['teams'])}!$A$2:$A${teams + 1}",
              error=_("Choose one of your teams' codes from the list."))
    for name in ("participants", "sessions", "quantity"):
        check(name, type="whole", operator="greaterThanOrEqual", formula1="0",
              error=_("A whole number, 0 or more."))
    check("funds", type="decimal", operator="greaterThanOrEqual", formula1="0",
          error=_("Yuan, 0 or more, at most 2 decimal places."))
    check("date", type="date", operator="greaterThan", formula1="1", errorStyle="warning",
          error=_("A date, YYYY-MM-DD."))


def _examples(sheet, activities, teams):
    """One row per activity, with the columns it records filled in, for the first team."""
    team = teams[0] if teams else None
    today = timezone.localdate()
    day = min(today, team.ends_on or today) if team else today
    numbers = _house_numbers(team)[:2] if team else []
    for activity in activities:
        values = {
            "date": day, "team": team.slug if team else _("(your team's code)"),
            "activity": activity.label,
            "households": ";".join(numbers or ["1", "2"]) if activity.uses_households else None,
            "participants": 20 if activity.uses_participants else None,
            "sessions": 1 if activity.uses_sessions else None,
            "quantity": 1 if activity.uses_quantity else None,
            "funds": 50000 if activity.uses_funds else None,
            "title": _("Example: %(activity)s") % {"activity": activity.label},
        }
        sheet.append([neutralise_formula(values.get(column.name)) for column in ENTRY_SPEC])
        for index, column in enumerate(ENTRY_SPEC, start=1):
            sheet.cell(row=sheet.max_row, column=index).number_format = FORMATS[column.kind]
    note = sheet.cell(row=1, column=len(ENTRY_SPEC) + 2, value=_(
        "Examples only: this sheet is never imported. Copy a row to the first sheet and change it."))
    note.font = BOLD
    sheet.column_dimensions[get_column_letter(note.column)].width = 70


def _table(sheet, header, rows, widths):
    sheet.append([str(name) for name in header])
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append([neutralise_formula(value) for value in row])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _columns(sheet, names):
    _table(sheet, [_("Column"), _("Required"), _("What to write")], (
        (column.name, _("yes") if column.required else "", str(column.help) % names)
        for column in ENTRY_SPEC
    ), (14, 8, 80))
    for row in sheet.iter_rows(min_row=2):
        row[-1].alignment = WRAPPED
    for line in (
        _("The import reads the first sheet only, its first row naming the columns: leave "
          "that row as it is. Empty rows are skipped."),
        _("Each activity records only the columns ticked for it on the sheet “%(activities)s”; "
          "leave the others empty.") % names,
        _("If any row has a problem, nothing is imported: the import page lists the problems "
          "by row and column; correct them and upload the file again."),
    ):
        sheet.append([])
        sheet.append([line])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row,
                          end_column=3)
        sheet.cell(row=sheet.max_row, column=1).alignment = WRAPPED


def _activities(sheet, activities):
    """The names the drop-down list offers (column A, in the user's language), the name in
    the other language and the code, which the import takes too; then what each records."""
    english = (get_language() or "").startswith("en")
    _table(sheet, [_("Activity"), _("Chinese name") if english else _("English name"), _("Code"),
                   _("Category"), *MEASURES, _("What the quantity counts")], (
        (activity.label, activity.name if english else activity.name_en, activity.code,
         activity.get_category_display(),
         *("✓" if getattr(activity, f"uses_{name}") else "" for name in MEASURES),
         activity.quantity_label)
        for activity in activities
    ), (20, 22, 22, 18, *(12,) * len(MEASURES), 24))


def _teams(sheet, teams):
    _table(sheet, [_("Team code"), _("Team"), _("Village code"), _("Village"), _("From"),
                   _("Until")], (
        (team.slug, team.label, team.village.slug, team.village.label, team.starts_on,
         team.ends_on)
        for team in teams
    ), (20, 24, 20, 24, 12, 12))
    for row in sheet.iter_rows(min_row=2, min_col=5, max_col=6):
        for cell in row:
            cell.number_format = FORMATS["date"]


def _households(sheet, teams):
    """The households of the teams' villages, the only ones the import takes, unless there
    are too many to be of use in a file."""
    villages = {team.village_id for team in teams}
    households = Household.objects.filter(village_id__in=villages)
    count = households.count()
    header = [_("Village code"), _("Village"), _("House number"), _("Head of household")]
    if count > MAX_HOUSEHOLDS:
        _table(sheet, header, [], (20, 24, 14, 20))
        sheet.append([_("The villages of your teams have %(count)s households, too many to list "
                        "here; the households page lists them by village.")
                      % {"count": f"{count:,}"}])
        return
    households = sorted(households.values("village__slug", "village__name", "house_number",
                                          "head_name"),
                        key=lambda row: (row["village__slug"], _number_order(row["house_number"])))
    _table(sheet, header, (row.values() for row in households), (20, 24, 14, 20))
    for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.number_format = FORMATS["text"]


def _house_numbers(team):
    numbers = Household.objects.filter(village_id=team.village_id).values_list(
        "house_number", flat=True)
    return sorted(numbers, key=_number_order)


def _number_order(number):
    """House numbers in the order a village counts them: 2 before 10."""
    return (0, int(number), "") if number.isascii() and number.isdigit() else (1, 0, number)

