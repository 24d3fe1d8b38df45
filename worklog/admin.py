"""The admin of the notebook: activities, indicators and entries, and the admin site's titles.

Entries are never deleted here: the bulk actions soft-delete and restore them, and each
change goes through save() so it is audited (simple-history) and bumps the version.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, ngettext
from simple_history.admin import SimpleHistoryAdmin

from worklog.models import Activity, Entry, Indicator

admin.site.site_header = _("Team Worklog")
admin.site.site_title = _("Team Worklog admin")
admin.site.index_title = _("Programme administration")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "category",
        "uses_households",
        "uses_participants",
        "uses_sessions",
        "uses_quantity",
        "uses_funds",
        "order",
        "is_active",
    ]
    list_display_links = ["code"]
    list_editable = ["order"]
    list_filter = ["category", "is_active"]
    search_fields = ["code", "name", "name_en"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "category", "order", "is_active"]}),
        (
            _("what the form asks for"),
            {
                "fields": [
                    "uses_households",
                    "uses_participants",
                    "uses_sessions",
                    "uses_quantity",
                    "uses_funds",
                    "quantity_label",
                ]
            },
        ),
    ]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
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
    """The village defaults to the team's, and linked households must live in it."""

    class Meta:
        model = Entry
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "village" in self.fields:
            self.fields["village"].required = False
            self.fields["village"].help_text = _("Empty: the team's village.")

    def clean(self):
        cleaned = super().clean()
        team, village = cleaned.get("team"), cleaned.get("village")
        if village is None and team is not None and "village" not in self.errors:
            village = cleaned["village"] = team.village
        households = cleaned.get("households")
        if village is not None and households:
            strangers = [h for h in households if h.village_id != village.pk]
            if strangers:
                self.add_error(
                    "households",
                    _("Not households of %(village)s: %(households)s")
                    % {"village": village, "households": ", ".join(map(str, strangers))},
                )
        return cleaned


@admin.register(Entry)
class EntryAdmin(SimpleHistoryAdmin):
    form = EntryAdminForm
    list_display = [
        "date",
        "team",
        "village",
        "activity",
        "title",
        "participants",
        "sessions",
        "quantity",
        "funds",
        "author",
        "is_deleted",
    ]
    list_display_links = ["date", "title"]
    list_select_related = ["team", "village", "activity", "author"]
    list_filter = [DeletedFilter, "team", "activity", "date"]
    date_hierarchy = "date"
    search_fields = ["title", "notes", "uuid"]
    # Counting every entry of the programme for "N total" is not worth a full scan.
    show_full_result_count = False
    autocomplete_fields = ["team", "village", "author", "activity", "households"]
    readonly_fields = ["uuid", "created_at", "updated_at", "version", "deleted_at", "deleted_by"]
    fieldsets = [
        (None, {"fields": ["team", "village", "date", "activity", "author"]}),
        (_("what was done"), {"fields": ["title", "notes", "households"]}),
        (_("figures"), {"fields": ["participants", "sessions", "quantity", "funds"]}),
        (
            _("record"),
            {"fields": readonly_fields},
        ),
    ]
    actions = ["soft_delete_selected", "restore_selected"]

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
        if change and form.has_changed():
            obj.version += 1
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Soft delete selected entries"), permissions=["change"])
    def soft_delete_selected(self, request, queryset):
        count = self._set_deleted(request, queryset, deleted=True)
        self.message_user(
            request,
            ngettext("%(count)d entry deleted.", "%(count)d entries deleted.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected entries"), permissions=["change"])
    def restore_selected(self, request, queryset):
        count = self._set_deleted(request, queryset, deleted=False)
        self.message_user(
            request,
            ngettext("%(count)d entry restored.", "%(count)d entries restored.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @transaction.atomic
    def _set_deleted(self, request, queryset, *, deleted):
        """Saves each entry (not queryset.update()) so that history records who did it;
        entries already in the wanted state are left alone."""
        now = timezone.now()
        # Locked through a plain queryset: the changelist's joins (a nullable author)
        # cannot take FOR UPDATE on PostgreSQL.
        entries = list(
            Entry.objects.select_for_update()
            .filter(pk__in=queryset.values("pk"), deleted_at__isnull=deleted)
            .order_by("pk")
        )
        for entry in entries:
            entry.deleted_at = now if deleted else None
            entry.deleted_by = request.user if deleted else None
            entry.version += 1
            entry.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        return len(entries)
