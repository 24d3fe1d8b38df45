"""The admin of the notebook: activities, indicators and entries, and the admin site's titles.

Every change of an entry goes through the notebook's services (worklog.services), as from
the notebook and the import: the version moves on, history records who did it and the
tallies stay exact. Entries are never deleted here; actions soft-delete and restore them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from teams import admin as teams_admin
from teams.admin_names import DeletesLinksQuietlyMixin
from teams.history_admin import ReadOnlyHistoryAdmin
from teams.models import Household
from worklog.locking import locked_months, month_name
from worklog.models import Activity, Amendment, Entry, Indicator, MonthLock
from worklog.rules import AMOUNTS, validate_entry
from worklog.services import (
    MonthLocked,
    StaleEntry,
    entry_create,
    entry_restore,
    entry_soft_delete,
    entry_update,
)

admin.site.site_header = _("Team Worklog")
admin.site.site_title = _("Team Worklog admin")
admin.site.index_title = _("Programme administration")


MEASURE_SWITCHES = [
    "uses_households", "uses_participants", "uses_sessions", "uses_quantity", "uses_funds",
]


@admin.register(Activity)
class ActivityAdmin(DeletesLinksQuietlyMixin, admin.ModelAdmin):
    list_display = [
        "code", "name", "name_en", "category",
        *MEASURE_SWITCHES,
        "order", "is_active",
    ]
    list_display_links = ["code"]
    list_editable = ["order"]
    list_filter = ["category", "is_active"]
    search_fields = ["code", "name", "name_en"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "category", "order", "is_active"]}),
        (_("what the form asks for"), {"fields": [*MEASURE_SWITCHES, "quantity_label"]}),
    ]


@admin.register(Indicator)
class IndicatorAdmin(DeletesLinksQuietlyMixin, admin.ModelAdmin):
    list_display = [
        "order", "code", "label_zh", "label_en", "unit", "measure", "activity_codes",
    ]
    list_display_links = ["code"]
    list_editable = ["order"]
    list_filter = ["measure", "unit"]
    search_fields = ["code", "label_zh", "label_en"]
    filter_horizontal = ["activities"]
    fieldsets = [
        (None, {"fields": ["code", "order"]}),
        (_("label"), {"fields": ["label_zh", "label_en"]}),
        (_("unit and measure"), {"fields": ["unit", "measure"]}),
        (_("activities"), {"fields": ["activities"]}),
        (_("phrase in the year's report"), {"fields": ["phrase_zh", "phrase_en"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("activities")

    @admin.display(description=_("activities"))
    def activity_codes(self, obj):
        return ", ".join(activity.code for activity in obj.activities.all())


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("live", _("live")), ("deleted", _("deleted"))]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class EntryAdminForm(forms.ModelForm):
    """The notebook's rules (worklog.rules), as the form and the import apply them: the
    entry's village is its team's (empty means the team's), its date within the team's
    deployment and not in the future, its households of that village, its figures those
    its activity records. `seen_version` is the optimistic lock: the version the admin
    opened."""

    seen_version = forms.IntegerField(
        label=_("version you opened"), widget=forms.HiddenInput, required=False
    )

    class Meta:
        model = Entry
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "village" in self.fields:
            self.fields["village"].required = False
            self.fields["village"].help_text = _("Empty: the team's village.")
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        team, village = cleaned.get("team"), cleaned.get("village")
        if team is not None and village is None and "village" not in self.errors:
            cleaned["village"] = team.village
        households = cleaned.get("households")
        try:
            validate_entry(
                team=team, village=village, date=cleaned.get("date"),
                activity=cleaned.get("activity"),
                households=None if households is None else list(households),
                amounts={name: cleaned.get(name) for name in AMOUNTS},
            )
        except ValidationError as error:
            self.add_error(None, error)  # each message on its field
        team, day = cleaned.get("team"), cleaned.get("date")
        reported = [(team, day)] + ([(self.instance.team, self.instance.date)] if self.instance.pk else [])
        months = {(team.pk, day.year, day.month): (team, day)
                  for team, day in reported if team is not None and day is not None}
        locked = locked_months(months)
        for locked_team, locked_day in (months[month] for month in months if month in locked):
            raise forms.ValidationError(
                _("%(month)s is locked for %(team)s: it has been reported. Correct it "
                  "through an amendment."),
                params={"month": month_name(locked_day.year, locked_day.month), "team": locked_team},
            )
        if self.instance.pk and cleaned.get("seen_version") != self.instance.version:
            raise forms.ValidationError(
                _("Someone saved this entry after you opened it (it is now at version "
                  "%(version)s). Open it again to see their changes."),
                params={"version": self.instance.version},
            )
        return cleaned


EDITED_FIELDS = (
    "team", "village", "date", "activity", "author", "title", "notes",
    "participants", "sessions", "quantity", "funds",
)


@admin.register(Entry)
class EntryAdmin(ReadOnlyHistoryAdmin):
    form = EntryAdminForm
    list_display = [
        "date", "team", "village", "activity", "title",
        "participants", "sessions", "quantity", "funds", "author", "is_deleted",
    ]
    list_display_links = ["date", "title"]
    list_select_related = ["team", "village", "activity", "author"]
    list_filter = [DeletedFilter, "team", "activity", "date"]
    date_hierarchy = "date"
    search_fields = ["title", "notes", "uuid"]
    # Counting every entry of the programme for "N total" is not worth a full scan.
    show_full_result_count = False
    autocomplete_fields = ["team", "village", "author", "activity"]
    readonly_fields = ["uuid", "created_at", "updated_at", "version", "deleted_at", "deleted_by"]
    actions = ["soft_delete_selected", "restore_selected"]

    def get_fieldsets(self, request, obj=None):
        """A method, not `fieldsets`: the admin's checks refuse there a many-to-many field
        with a link model of its own, as the households have (EntryHousehold)."""
        return [
            (None, {"fields": ["team", "village", "date", "activity", "author"]}),
            (_("what was done"), {"fields": ["title", "notes", "households"]}),
            (_("figures"), {"fields": ["participants", "sessions", "quantity", "funds"]}),
            (_("record"), {"fields": [*self.readonly_fields, "seen_version"]}),
        ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        """The households, which Django's admin would leave out for their link model of
        their own; save_model() hands them to the services, which write the links."""
        if db_field.name == "households":
            kwargs["widget"] = AutocompleteSelectMultiple(db_field, self.admin_site)
            return db_field.formfield(**kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("deleted"), boolean=True, ordering="deleted_at")
    def is_deleted(self, obj):
        return obj.deleted_at is not None

    def has_delete_permission(self, request, obj=None):
        # Deletion is soft (an action), so that totals stay traceable and audited.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        """Through the notebook's services, like every other change of an entry; the
        admin then goes on with `obj` (households, log, redirect), so it is reloaded."""
        values = {name: getattr(obj, name) for name in EDITED_FIELDS}
        households = list(form.cleaned_data.get("households") or [])
        if not change:
            entry, _created = entry_create(uuid=obj.uuid, households=households, **values)
        elif form.has_changed():
            # The conditional UPDATE also catches a save that landed between the form's
            # version check and this one.
            entry = entry_update(
                entry=obj, version=form.cleaned_data["seen_version"], editor=request.user,
                households=households, **values,
            )
        else:
            return
        obj.pk = entry.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        """Nothing: the households went to the services with the rest (save_model), and
        the entry has no inlines."""

    @admin.action(description=_("Soft delete selected entries"), permissions=["change"])
    def soft_delete_selected(self, request, queryset):
        done = self._apply(request, queryset.filter(deleted_at__isnull=True), entry_soft_delete)
        self.message_user(
            request,
            ngettext("%(count)d entry deleted.", "%(count)d entries deleted.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected entries"), permissions=["change"])
    def restore_selected(self, request, queryset):
        done = self._apply(request, queryset.filter(deleted_at__isnull=False), entry_restore)
        self.message_user(
            request,
            ngettext("%(count)d entry restored.", "%(count)d entries restored.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    def _apply(self, request, queryset, service):
        """Each entry through the service (not queryset.update()), so that its version
        moves on and history records who did it. One that changed meanwhile is skipped."""
        done = 0
        for entry in queryset.select_related(None).order_by("pk"):
            try:
                service(entry=entry, user=request.user)
            except StaleEntry:
                self.message_user(
                    request,
                    _("%(entry)s changed meanwhile and was left alone.") % {"entry": entry},
                    messages.WARNING,
                )
            except MonthLocked as locked:
                self.message_user(
                    request,
                    _("%(entry)s is in a reported month (%(month)s) and was left alone.")
                    % {"entry": entry, "month": locked},
                    messages.WARNING,
                )
            except ValidationError as refused:  # a restore its team's deployment no longer covers
                self.message_user(
                    request,
                    _("%(entry)s was left alone: %(problems)s")
                    % {"entry": entry, "problems": " ".join(refused.messages)},
                    messages.WARNING,
                )
            else:
                done += 1
        return done


@admin.register(MonthLock)
class MonthLockAdmin(admin.ModelAdmin):
    """Locks are made by coordinators on /locks/; deleting one here unlocks the month
    (its reported figures go with it) and stays in the admin's log."""

    list_display = ["organisation", "year", "month", "locked_by", "locked_at"]
    list_filter = ["year", "organisation"]
    list_select_related = ["organisation", "locked_by"]
    readonly_fields = ["organisation", "year", "month", "locked_by", "locked_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Amendment)
class AmendmentAdmin(admin.ModelAdmin):
    list_display = ["filed_at", "team", "kind", "status", "filed_by", "decided_by"]
    list_filter = ["status", "kind", "team"]
    list_select_related = ["team", "filed_by", "decided_by"]
    readonly_fields = [f.name for f in Amendment._meta.fields]

    def has_add_permission(self, request):
        return False


# --- households: the teams admin, guarded by the entries that link them -------------------

PROTECTING_ENTRIES_SHOWN = 20


class HouseholdAdmin(teams_admin.HouseholdAdmin):
    def get_deleted_objects(self, objs, request):
        """A household some entry visited is protected by the entry's link to it
        (EntryHousehold): deleting it would drop visits from the notebook and the totals.
        The page lists the entries, the latest first, rather than every link."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        entries = Entry.objects.filter(households__in=objs)
        shown = list(entries.distinct().order_by("-date")[:PROTECTING_ENTRIES_SHOWN + 1]) if protected else []
        if shown:
            protected = [f"{capfirst(entry._meta.verbose_name)}: {entry}" for entry in shown]
            if len(shown) > PROTECTING_ENTRIES_SHOWN:
                protected[-1] = "…"
        return deleted, counts, perms_needed, protected


admin.site.unregister(Household)
admin.site.register(Household, HouseholdAdmin)
