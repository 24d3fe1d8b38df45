"""The household list as a django-tables2 table, and the same households as a spreadsheet."""

import django_tables2 as tables
import tablib
from django.utils.translation import gettext_lazy as _
from django_tables2.utils import A

from worklog.spreadsheets import neutralise_formula

# Columns of the export: the columns of the household import, so a file goes back in.
EXPORT_COLUMNS = ("village", "house_number", "head_name", "size", "phone", "tags", "notes")

ON_WIDE_SCREENS = {"class": "d-none d-sm-table-cell"}
NUMBER = {"class": "text-end"}


class HouseholdTable(tables.Table):
    """Expects households annotated with `visits_this_year`, `last_visit` and
    `house_number_length` (for 1, 2 … 10 rather than 1, 10, 2), tags prefetched."""

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
    visits_this_year = tables.Column(
        verbose_name=_("Visits this year"), attrs={"th": NUMBER, "td": NUMBER}
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
    dataset = tablib.Dataset(headers=list(EXPORT_COLUMNS))
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
