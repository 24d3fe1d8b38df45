"""Importing a file of households: each row checked (a known village, a house number, a
head's name, known tags), then new house numbers added and stored ones updated through the
model, so that each change is audited. A column the file leaves out, or an empty size,
keeps the stored value.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from teams.models import HOUSEHOLD_SIZE_MAX, Household, HouseholdTag, Village
from worklog.imports.reading import (
    ImportRejected,
    _Bad,
    _blank,
    _file_problem,
    _in_order,
    _limited,
    _names,
    _quoted,
    _records,
    _required,
    _Row,
    _text,
    _whole,
    at_most,
    house_number_text,
    house_numbers_by_value,
    shown,
)
from worklog.imports.sheets import read_sheet

HOUSEHOLD_COLUMNS = ("village", "house_number", "head_name", "size", "phone", "tags", "notes")
HOUSEHOLD_REQUIRED = ("village", "house_number", "head_name")
SIZE_IN_RANGE = at_most(HOUSEHOLD_SIZE_MAX)


def _max_length(column):
    """The household's own limit, so the import refuses exactly what the form refuses."""
    return Household._meta.get_field(column).max_length


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
    by_value = house_numbers_by_value(stored)
    tags = {}
    for tag in HouseholdTag.objects.all():
        tags.update({tag.name: tag, **({tag.name_en: tag} if tag.name_en else {})})
    plan, seen = HouseholdPlan(problems=problems), {}
    for number, record in records:
        row = _Row(number, record, HOUSEHOLD_COLUMNS)
        village = row.cell("village", _required(lambda cell: _known(villages, cell, _(
            "Unknown village “%(name)s”."))))
        house_number = row.cell("house_number", _required(
            lambda cell: _limited(_max_length("house_number"))(
                house_number_text(cell, village and village.pk, by_value))))
        values = {"head_name": row.cell("head_name", _required(_limited(_max_length("head_name"))))}
        if not _blank(record.get("size")):
            values["size"] = row.cell("size", lambda cell: _whole(cell, SIZE_IN_RANGE))
        for column in ("phone", "notes"):
            if column in record:
                values[column] = row.cell(column, _limited(_max_length(column)))
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
        raise _Bad(message % {"name": shown(_text(cell))})
    return found


def _tags(tags, cell):
    names = list(dict.fromkeys(_names(cell)))
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
