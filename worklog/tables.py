"""Tables of the notebook and of the household list: each list page's table and its export
in the columns of its import."""

import django_tables2 as tables
import tablib
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_tables2.export import TableExport
from django_tables2.utils import A

from teams.models import Household
from teams.names import person_name
from worklog.models import Entry
from worklog.spreadsheets import neutralise_formula

# Columns of `import_entries` (DESIGN §6): an export can be imported again.
EXPORT_COLUMNS = (
    "date", "team", "village", "activity", "households", "participants", "sessions",
    "quantity", "funds", "title", "notes", "uuid",
)
EXPORT_FORMATS = (TableExport.CSV, TableExport.XLSX)

TITLE_CHARS = 30


def with_households_count(entries):
    """Annotate `households_count` by a correlated subquery rather than a GROUP BY, so that
    a page of 50 entries counts the links of those 50 only."""
    links = (
        Entry.households.through.objects.filter(entry=OuterRef("pk"))
        .order_by()
        .values("entry")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return entries.annotate(households_count=Coalesce(Subquery(links), 0))


def _sortable(*fields):
    """Sort by the fields, then by id so that pages stay stable among equal values."""
    return (*fields, "id")


# Columns a phone leaves out (Bootstrap's display classes): from 768 px on, and from 992 px.
FROM_MEDIUM = "d-none d-md-table-cell"
FROM_LARGE = "d-none d-lg-table-cell"


class NumberColumn(tables.Column):
    """A figure of the notebook: right-aligned, shown from medium screens on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, attrs={"th": {"class": f"text-end {FROM_MEDIUM}"}}, **kwargs)


class NotebookTable(tables.Table):
    """Headers, sorting and pages are django-tables2's; the rows are `rows_html()`, with
    the same display classes as the headers."""

    date = tables.Column(verbose_name=_("date"), order_by=_sortable("date"))
    activity = tables.Column(
        verbose_name=_("activity"), order_by=_sortable("activity__order", "activity__code"),
        attrs={"th": {"class": FROM_MEDIUM}},
    )
    title = tables.Column(verbose_name=_("title"), order_by=_sortable("title"))
    team = tables.Column(
        verbose_name=_("team"), order_by=_sortable("team__name"), attrs={"th": {"class": FROM_LARGE}}
    )
    households_count = NumberColumn(
        verbose_name=_("households"), order_by=_sortable("households_count")
    )
    participants = NumberColumn(
        verbose_name=_("participants"), order_by=_sortable("participants")
    )
    # "sessions" alone is Django's login sessions (会话) in Chinese
    sessions = NumberColumn(
        verbose_name=pgettext_lazy("measure", "sessions"), order_by=_sortable("sessions")
    )
    quantity = NumberColumn(verbose_name=_("quantity"), order_by=_sortable("quantity"))
    funds = NumberColumn(verbose_name=_("funds (yuan)"), order_by=_sortable("funds"))
    author = tables.Column(
        verbose_name=_("author"), order_by=_sortable("author__username"),
        attrs={"th": {"class": FROM_LARGE}},
    )
    # excluded for those who cannot log entries
    repeat = tables.Column(verbose_name=_("actions"), orderable=False, empty_values=())

    class Meta:
        model = Entry
        fields = ()
        attrs = {"class": "table table-sm table-striped align-middle notebook-table"}
        empty_text = _("No entries match.")
        template_name = "notebook/_table.html"

    def rows_html(self):
        """The page's rows as HTML, in the headers' display classes (`notebook/_table.html`).

        Written here in one pass rather than by django-tables2 cell by cell or by a
        template loop, whose per-node work (lookups, escaping, localising every variable)
        cost most of the page's time. Every text is escaped here. Counts need no
        localising (neither language groups them); funds are grouped as the language does
        ("12,345.60" in English). On a phone the row is the date and the title, the
        activity under it; the figures, the team and the author are on the entry's page.
        """
        shows_team = "team" in self.columns  # excluded when the user sees one team only
        repeat = escape(gettext("Repeat")) if "repeat" in self.columns else None
        rows = []
        for row in self.paginated_rows:
            entry = row.record
            activity = entry.activity.label
            # Long titles are cut here and read in full on the entry's page.
            title = escape(Truncator(entry.title or activity).chars(TITLE_CHARS))
            activity = escape(activity)
            team = f'<td class="entry-team {FROM_LARGE}">{escape(entry.team.label)}</td>' if shows_team else ""
            figures = "".join(
                f'<td class="text-end text-nowrap {FROM_MEDIUM}">{figure}</td>'
                for figure in (entry.households_count, entry.participants, entry.sessions,
                               entry.quantity, escape(intcomma(entry.funds)))
            )
            copy = (
                f'<td class="text-nowrap"><a href="{reverse("entry_copy", args=[entry.pk])}" '
                f'class="entry-repeat">{repeat}</a></td>'
            ) if repeat else ""
            rows.append(
                f'<tr data-entry="{entry.pk}"><td class="text-nowrap">{entry.date.isoformat()}</td>'
                f'<td class="entry-activity {FROM_MEDIUM}">{activity}</td>'
                f'<td class="entry-title"><a href="{reverse("entry_detail", args=[entry.pk])}">{title}</a>'
                f'<span class="d-block d-md-none small text-body-secondary">{activity}</span></td>'
                f'{team}{figures}'
                f'<td class="text-nowrap {FROM_LARGE}">{escape(person_name(entry.author) or "—")}</td>'
                f"{copy}</tr>"
            )
        return mark_safe("\n".join(rows))

    @staticmethod
    def entries(queryset):
        """The queryset the table needs: one query per page, whatever the rows, reading
        only the columns the page shows."""
        return with_households_count(
            queryset.select_related("team", "activity", "author").only(
                "date", "title", "participants", "sessions", "quantity", "funds",
                "team__name", "team__name_en", "activity__name", "activity__name_en",
                "author__username", "author__first_name", "author__last_name",
            )
        )


class EntryExportTable(tables.Table):
    """The import's columns by their import names (not translated: they are a contract)."""

    date = tables.Column(verbose_name="date")
    team = tables.Column(verbose_name="team", accessor="team__slug")
    village = tables.Column(verbose_name="village", accessor="village__slug")
    activity = tables.Column(verbose_name="activity", accessor="activity__code")
    households = tables.Column(verbose_name="households", empty_values=())
    participants = tables.Column(verbose_name="participants")
    sessions = tables.Column(verbose_name="sessions")
    quantity = tables.Column(verbose_name="quantity")
    funds = tables.Column(verbose_name="funds")
    title = tables.Column(verbose_name="title")
    notes = tables.Column(verbose_name="notes")
    uuid = tables.Column(verbose_name="uuid")

    class Meta:
        model = Entry
        fields = ()
        sequence = EXPORT_COLUMNS
        orderable = False

    def value_date(self, value):
        return value.isoformat()

    def value_households(self, record):
        return ";".join(household.house_number for household in record.households.all())

    def value_uuid(self, value):
        return str(value)

    @staticmethod
    def entries(queryset):
        """Two queries for any number of rows: the entries, then their households."""
        households = Household.objects.only("house_number").order_by("house_number")
        return queryset.select_related("team", "village", "activity").prefetch_related(
            Prefetch("households", queryset=households)
        )


# Columns of the household export: the columns of the household import, so a file goes back in.
HOUSEHOLD_EXPORT_COLUMNS = ("village", "house_number", "head_name", "size", "phone", "tags", "notes")

ON_WIDE_SCREENS = {"class": "d-none d-sm-table-cell"}


class HouseholdTable(tables.Table):
    """Expects households annotated with `visits_this_year`, `last_visit` and
    `house_number_length` (`Household.objects.by_house_number`: 1, 2 … 10 rather than
    1, 10, 2), tags prefetched."""

    village = tables.Column(
        verbose_name=_("Village"),
        order_by=("village__name", "house_number_length", "house_number"),
        attrs={"th": ON_WIDE_SCREENS, "td": ON_WIDE_SCREENS},
    )
    house_number = tables.Column(
        verbose_name=_("No."), order_by=("house_number_length", "house_number")
    )
    head_name = tables.Column(
        verbose_name=_("Head of household"),
        linkify=("household_detail", [A("pk")]),
        # names in Uyghur script run right to left: keep them from reordering the row
        attrs={"a": {"dir": "auto"}, "td": {"class": "text-break"}},
    )
    size = tables.Column(
        verbose_name=_("People"),
        attrs={"th": {"class": "d-none d-sm-table-cell text-end"},
               "td": {"class": "d-none d-sm-table-cell text-end"}},
    )
    tags = tables.ManyToManyColumn(
        verbose_name=_("Tags"), transform=lambda tag: tag.label, orderable=False
    )
    # on a phone the last visit says enough; the count is a column from 576 px on
    visits_this_year = tables.Column(
        verbose_name=_("Visits this year"),
        attrs={"th": {"class": "d-none d-sm-table-cell text-end"},
               "td": {"class": "d-none d-sm-table-cell text-end"}},
    )
    last_visit = tables.DateColumn(
        verbose_name=_("Last visit"), format="Y-m-d", attrs={"td": {"class": "text-nowrap"}}
    )

    class Meta:
        template_name = "households/_table.html"
        attrs = {"class": "table table-sm table-striped align-middle household-table"}
        empty_text = _("No households found.")


def household_dataset(households):
    """The households (village selected, tags prefetched) in the import's columns."""
    dataset = tablib.Dataset(headers=list(HOUSEHOLD_EXPORT_COLUMNS))
    for household in households:
        row = (
            household.village.slug,
            household.house_number,
            household.head_name,
            household.size,
            household.phone,
            ";".join(tag.name for tag in household.tags.all()),
            household.notes,
        )
        dataset.append([neutralise_formula(value) for value in row])
    return dataset
