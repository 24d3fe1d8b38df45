"""The audit trail as people read it: who changed what, when, field by field.

A page reads the trail in a fixed number of queries, however long it is: the records with
their users in one, and for each many-to-many field (an entry's households, a household's
tags) the rows of all those records in one more. django-simple-history's `diff_against`
would read a record's rows again for every pair compared.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.forms.models import model_to_dict
from django.utils.translation import pgettext_lazy

ACTIONS = {
    "+": pgettext_lazy("history", "created"),
    "~": pgettext_lazy("history", "changed"),
    "-": pgettext_lazy("history", "deleted"),
}
HIDDEN_FIELDS = {"version", "updated_at", "created_at"}
SHOWN_RECORDS = 50


@dataclass
class Change:
    field: str
    old: object
    new: object


@dataclass
class Revision:
    when: object
    who: object
    action: str
    changes: list


def revisions(obj):
    """The object's history, newest first, each record compared with the one before it."""
    records = list(
        obj.history.select_related("history_user")
        .order_by("-history_date", "-history_id")[: SHOWN_RECORDS + 1]
    )
    if not records:
        return []
    model = obj._meta.model
    m2m_fields = records[0]._history_m2m_fields
    names = sorted(
        {field.name for field in records[0].tracked_fields if field.editable}
        - {field.name for field in m2m_fields}
        - HIDDEN_FIELDS
    )
    linked = {field.name: _linked(records, field) for field in m2m_fields}
    result = []
    for record, previous in zip(records, records[1:] + [None]):
        if previous is not None:
            changes = _changes(model, names, record, previous, linked)
        elif record.history_type == "+":
            # The creation's own rows (an entry's households) are shown as added: there is
            # no earlier record to compare with.
            changes = [
                Change(field.verbose_name, _shown(None), _shown(linked[field.name][record.pk]))
                for field in m2m_fields if linked[field.name][record.pk]
            ]
        else:
            changes = []  # the oldest record shown is not the first: nothing to compare
        result.append(Revision(
            record.history_date, record.history_user, ACTIONS.get(record.history_type, ""),
            changes,
        ))
    return result[:SHOWN_RECORDS]


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


def _changes(model, names, record, previous, linked):
    """What `record` changed against `previous`, in the order of the fields' names."""
    new, old = model_to_dict(record, fields=names), model_to_dict(previous, fields=names)
    changes = [(name, old[name], new[name]) for name in names if old[name] != new[name]]
    changes += [
        (name, rows[previous.pk], rows[record.pk])
        for name, rows in linked.items() if rows[previous.pk] != rows[record.pk]
    ]
    return [
        Change(model._meta.get_field(name).verbose_name, _shown(old), _shown(new))
        for name, old, new in sorted(changes, key=lambda change: change[0])
    ]


def _shown(value):
    if isinstance(value, list):  # many-to-many: the related objects' ids
        return ", ".join(map(str, value)) if value else "—"
    return "—" if value in (None, "") else value
