"""The admin's audit history, read as people read it and never written back: the base of
every admin whose model keeps a history.

Its list says each record's action (created, changed, deleted, restored), who by full name
and what changed in words, as the entry and household pages do (teams.history;
templates/simple_history/object_history_list.html shows it).

django-simple-history offers to "revert" an object to a past version by saving that
version's form. That save skips what every other change goes through — an entry's
services (tallies, month locks, the optimistic lock), the rules of the notebook — and for
an entry it saved nothing while saying it had. So a past version is shown, never written
back (SIMPLE_HISTORY_REVERT_DISABLED in the settings hides the button; this refuses the
POST); a change is made on the object's own page.
"""

from django.http import HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from teams.history import readable


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each record of the page (`historical_records` is the page) as people read it,
        compared with the record before it: for the page's oldest, the next page's first."""
        records = list(historical_records.object_list)
        if not records:
            return
        end = historical_records.end_index()
        older = list(historical_records.paginator.object_list[end:end + 1])
        for record, revision in zip(records, readable(records + older)):
            record.revision = revision

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is None:
            return form  # the object as it is now: its own change page

        record = getattr(obj, SIMPLE_HISTORY_REVERSE_ATTR_NAME)

        class PastVersionForm(form):
            """A past version's values, shown in fields that cannot be changed."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    field.disabled = True
                # The version's own links (an entry's households, a household's tags),
                # which the audit keeps apart: the instance would show today's.
                for m2m in record._history_m2m_fields:
                    if m2m.name in self.fields:
                        self.initial[m2m.name] = list(getattr(record, m2m.name).values_list(
                            m2m.m2m_reverse_field_name(), flat=True))

        return PastVersionForm
