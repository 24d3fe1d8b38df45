"""The audit trail as people read it: who changed what, when, field by field, in words.

The entry and household pages (worklog's views) and the admin's history pages
(teams/history_admin.py) read it here. A value reads as people name it: a person by their
full name, a household by its house number and head, a team, village or activity by its
name, a yes/no as 是/否, a choice by its label, money in yuan with two decimals. An
entry's soft deletion and its restoration are called so, not "changed".

A page reads the trail in a fixed number of queries, however long it is: the records with
their users in one, for each many-to-many field the rows of all those records in one more,
and for each kind of object the changes name (users, households, teams…) one more.
django-simple-history's `diff_against` would read a record's rows again for every pair
compared.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import models
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from teams.models import Household
from teams.names import household_name, person_name

ACTIONS = {
    "+": pgettext_lazy("history", "created"),
    "~": pgettext_lazy("history", "changed"),
    "-": pgettext_lazy("history", "deleted"),
}
RESTORED = pgettext_lazy("history", "restored")
# Why a record was written, when a writer says (worklog.imports: "import"), in words.
REASONS = {"import": pgettext_lazy("history", "by import")}
# An entry is deleted by setting this field (worklog.services.entry_soft_delete) and
# restored by clearing it: the action says so, rather than the field's new value.
SOFT_DELETION = "deleted_at"
# The optimistic lock, timestamps and the deletion's own fields: the action and the
# record's date and user already say what they would.
HIDDEN_FIELDS = {"version", "updated_at", "created_at", SOFT_DELETION, "deleted_by"}
SHOWN_RECORDS = 50
NOTHING = "—"


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Revision:
    when: object
    who: object  # the user, or None for the system (a seed, a migration)
    action: str
    changes: list
    reason: str = ""

    @property
    def who_name(self):
        return person_name(self.who)


# How an object a change points to is named; any other by its str() (its name, a label).
NAMERS = {Household: household_name}


def revisions(obj):
    """The object's history, newest first, each record compared with the one before it."""
    records = list(
        obj.history.select_related("history_user")
        .order_by("-history_date", "-history_id")[: SHOWN_RECORDS + 1]
    )
    return readable(records)[:SHOWN_RECORDS]


def readable(records):
    """Revisions of one object's `records`, newest first: each compared with the next one.
    The last is compared with nothing: if it is the creation, the links it was created
    with (an entry's households) are shown as added."""
    if not records:
        return []
    model = records[0].instance_type
    m2m_fields = records[0]._history_m2m_fields
    names = sorted(
        {field.name for field in records[0].tracked_fields if field.editable}
        - {field.name for field in m2m_fields}
        - HIDDEN_FIELDS
    )
    linked = {field.name: _linked(records, field) for field in m2m_fields}
    found = []  # (record, action, [(field name, old value, new value)])
    every = []  # all those differences, for their values to be named at once
    for record, previous in zip(records, records[1:] + [None]):
        action = ACTIONS.get(record.history_type, "")
        if previous is not None:
            action = _soft_deletion(record, previous) or action
            differences = _differences(names, record, previous, linked)
        elif record.history_type == "+":
            differences = [(name, [], rows[record.pk]) for name, rows in linked.items()
                           if rows[record.pk]]
        else:
            differences = []  # the oldest record shown is not the first: nothing to compare
        found.append((record, action, differences))
        every += differences
    words = Words(model, every)
    return [
        Revision(record.history_date, record.history_user, action, [
            Change(model._meta.get_field(name).verbose_name, words(name, old), words(name, new))
            for name, old, new in differences
        ], _reason(record.history_change_reason))
        for record, action, differences in found
    ]


def _reason(reason):
    return REASONS.get(reason, reason or "")


def _soft_deletion(record, previous):
    if not hasattr(record, SOFT_DELETION):
        return None
    was, now = getattr(previous, SOFT_DELETION), getattr(record, SOFT_DELETION)
    if was is None and now is not None:
        return ACTIONS["-"]
    if was is not None and now is None:
        return RESTORED
    return None


def _linked(records, field):
    """{history id: [related ids, in order]} of one many-to-many field, in one query."""
    through = getattr(records[0], field.name).model  # the audit copy of the through table
    target = field.m2m_reverse_field_name()  # "household" for an entry's households
    rows = (
        through.objects.filter(history__in=[record.pk for record in records])
        .order_by(target)
        .values_list("history_id", target)
    )
    linked = defaultdict(list)
    for history_id, related_id in rows:
        linked[history_id].append(related_id)
    return linked


def _differences(names, record, previous, linked):
    """What `record` changed against `previous`, in the order of the fields' names."""
    new, old = model_to_dict(record, fields=names), model_to_dict(previous, fields=names)
    differences = [(name, old[name], new[name]) for name in names if old[name] != new[name]]
    differences += [
        (name, rows[previous.pk], rows[record.pk])
        for name, rows in linked.items() if rows[previous.pk] != rows[record.pk]
    ]
    return sorted(differences, key=lambda difference: difference[0])


class Words:
    """The values of changes as text; the objects they point to are read once, one query
    for each kind of object, whatever the number of changes."""

    def __init__(self, model, differences):
        self.model = model
        wanted = defaultdict(set)
        for name, old, new in differences:
            field = model._meta.get_field(name)
            if field.is_relation:
                for value in (old, new):
                    ids = value if isinstance(value, list) else [value]
                    wanted[field.related_model].update(pk for pk in ids if pk is not None)
        self.names = {}
        for related, ids in wanted.items():
            namer = person_name if related is get_user_model() else NAMERS.get(related, str)
            for pk, obj in related._base_manager.in_bulk(ids).items():
                self.names[related, pk] = namer(obj)

    def __call__(self, name, value):
        field = self.model._meta.get_field(name)
        if value is None or value == "" or value == []:
            return NOTHING
        if field.is_relation:
            ids = value if isinstance(value, list) else [value]
            # An object deleted since is named by its id.
            return _(", ").join(self.names.get((field.related_model, pk), f"#{pk}") for pk in ids)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.BooleanField):
            return _("yes") if value else _("no")
        if isinstance(field, models.DecimalField):  # the only decimals kept are yuan
            return _("%(amount)s yuan") % {"amount": f"{value:,.2f}"}
        if isinstance(field, models.DateTimeField):
            return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
        if isinstance(field, models.DateField):
            return f"{value:%Y-%m-%d}"
        return str(value)
