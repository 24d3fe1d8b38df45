"""The audit trail as people read it: who changed what, when, field by field."""

from dataclasses import dataclass

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
    model = obj._meta.model
    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: SHOWN_RECORDS + 1])
    result = []
    for record, previous in zip(records, records[1:] + [None]):
        changes = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                label = model._meta.get_field(change.field).verbose_name
                changes.append(Change(label, _shown(change.old), _shown(change.new)))
        elif record.history_type == "+":
            changes = _created_with(record)
        result.append(Revision(record.history_date, record.history_user, ACTIONS.get(record.history_type, ""), changes))
    return result[:SHOWN_RECORDS]


def _created_with(record):
    """The many-to-many rows an object was created with (an entry's households), shown as
    added: the creation's audit row holds them, there is no earlier row to compare with."""
    changes = []
    for field in record._history_m2m_fields:
        target = field.m2m_reverse_field_name()  # "household" for an entry's households
        rows = list(getattr(record, field.name).order_by(target).values(target))
        if rows:
            changes.append(Change(field.verbose_name, _shown(None), _shown(rows)))
    return changes


def _shown(value):
    if isinstance(value, list):  # many-to-many: rows of the through table
        return ", ".join(str(row.get("household", row)) for row in value) if value else "—"
    return "—" if value in (None, "") else value
