"""What the notebook, the household list and the dashboard's breakdown download.

People's files speak as the pages do: headers in the user's language, teams, villages,
activities and households by name, the author's full name, dates and figures typed, and the
rows' totals at the bottom (`worklog/spreadsheets.py` writes the cells). The notebook and
the households also download in the columns of their import (`format=import`), codes and
all, which go back in unchanged.
"""

from decimal import Decimal

from django.db.models import Prefetch
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from teams.models import Household
from teams.names import person_name
from worklog.figures import TEN_THOUSAND, unit_name
from worklog.models import Measure
from worklog.spreadsheets import (
    Column,
    Sheet,
    SpreadsheetExport,
    TotalRow,
    dataset_content,
    download,
    sheet_download,
    wan_yuan,
    yuan,
)
from worklog.tables import EntryExportTable, household_dataset

# Rows read from the database at a time: the entries of a 100,000-row notebook are never
# all in memory at once.
CHUNK = 2000
IMPORT_FORMAT = "import"
FOR_IMPORT = "for-import"


def figure_cell(figure):
    """A total (worklog.figures.Figure) as a cell in the unit it reads in: funds in 万元."""
    return wan_yuan(figure.value / TEN_THOUSAND) if figure.is_funds else figure.value


# --- the notebook --------------------------------------------------------------------------


def _notebook_columns():
    return [Column(capfirst(header), width) for header, width in (
        (_("date"), 0), (_("team"), 0), (_("village"), 0), (_("activity"), 0), (_("title"), 30),
        (_("households"), 30), (_("household visits"), 0), (_("participants"), 0),
        (pgettext("measure", "sessions"), 0), (_("quantity"), 0), (_("funds (yuan)"), 16),
        (_("author"), 0), (_("notes"), 40),
    )]


def _notebook_rows(entries, totals):
    """Each entry, then the sums of its figure columns, then the notebook's totals by
    indicator (as the page shows them above the list); no totals when `totals` is None."""
    households = Household.objects.only("house_number", "head_name").by_house_number()
    entries = entries.select_related("team", "village", "activity", "author").prefetch_related(
        Prefetch("households", queryset=households)
    )
    count, visits, participants, sessions, quantity, funds = 0, 0, 0, 0, 0, Decimal(0)
    for entry in entries.iterator(chunk_size=CHUNK):
        reached = entry.households.all()
        count += 1
        visits += len(reached)
        participants += entry.participants
        sessions += entry.sessions
        quantity += entry.quantity
        funds += entry.funds
        yield (
            entry.date, entry.team.label, entry.village.label, entry.activity.label, entry.title,
            "; ".join(str(household) for household in reached), len(reached),
            entry.participants, entry.sessions, entry.quantity, yuan(entry.funds),
            person_name(entry.author), entry.notes,
        )
    if totals is None:
        return
    total = ngettext("Total of %(count)d entry", "Total of %(count)d entries", count) % {"count": count}
    yield TotalRow((total, None, None, None, None, None, visits, participants, sessions, quantity,
                    yuan(funds), None, None))
    if totals:
        yield ()
        yield TotalRow((_("Totals of these entries"),))
        for figure in totals:
            yield (figure.label, figure_cell(figure), figure.unit)


def notebook_download(entries, *, export_format, name, year, totals, for_import, deleted=False):
    """The filtered entries, every one, not a page of them. `totals`: the figures the
    notebook shows for them (worklog.figures.Figure), None for none at all."""
    if for_import:
        table = EntryExportTable(EntryExportTable.entries(entries))
        exporter = SpreadsheetExport(export_format, table, dataset_kwargs={"title": "notebook"})
        return exporter.response(filename=f"{name}-{FOR_IMPORT}.{export_format}")
    title = _("Deleted entries") if deleted else _("Notebook")
    title = f"{title} {year}" if year else title
    sheet = Sheet(title=title, columns=_notebook_columns(), rows=_notebook_rows(entries, totals))
    return sheet_download(sheet, export_format, name)


# --- the household list --------------------------------------------------------------------


def _household_rows(households):
    """Expects `visits_this_year` and `last_visit` annotated, villages selected, tags
    prefetched (the household list's queryset)."""
    count, people = 0, 0
    for household in households.iterator(chunk_size=CHUNK):
        count += 1
        people += household.size
        yield (
            household.village.label, household.house_number, household.head_name, household.size,
            household.phone, "; ".join(tag.label for tag in household.tags.all()),
            household.visits_this_year, household.last_visit, household.notes,
        )
    total = ngettext("Total of %(count)d household", "Total of %(count)d households", count) % {
        "count": count}
    yield TotalRow((total, None, None, people, None, None, None, None, None))


def households_download(households, *, export_format, name, for_import):
    if for_import:
        content = dataset_content(household_dataset(households), export_format)
        return download(content, export_format, f"{name}-{FOR_IMPORT}.{export_format}")
    columns = [
        Column(_("Village"), 16), Column(_("No.")), Column(_("Head of household"), 16),
        Column(_("People")), Column(_("Phone")), Column(_("Tags"), 20),
        Column(_("Visits this year")), Column(_("Last visit")), Column(_("Notes"), 40),
    ]
    sheet = Sheet(title=_("Household register"), columns=columns, rows=_household_rows(households))
    return sheet_download(sheet, export_format, name)


# --- the dashboard's breakdown -------------------------------------------------------------


def breakdown_download(rows, *, indicators, label, totals, year, export_format, name):
    """The breakdown's rows (dashboards._breakdown) in name order, then the scope's own
    totals: exact, so distinct households reached by two teams count once."""

    def cell(indicator, value):
        return yuan(value) if indicator.measure == Measure.FUNDS else value

    columns = [Column(capfirst(label), 20)] + [Column(f"{ind.label} ({unit_name(ind)})") for ind in indicators]
    scope_totals = {total.indicator.pk: total.value for total in totals}

    def sheet_rows():
        for row in rows:
            yield [row["place_name"]] + [cell(ind, row.get(f"i{ind.pk}", 0)) for ind in indicators]
        yield TotalRow([_("Total")] + [cell(ind, scope_totals.get(ind.pk, 0)) for ind in indicators])

    title = _("By %(kind)s, %(year)s") % {"kind": label, "year": year}
    sheet = Sheet(title=title, columns=columns, rows=sheet_rows())
    return sheet_download(sheet, export_format, name)
