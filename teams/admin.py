"""The admin of the teams app: the organisation and area trees, villages, teams and their
members, households, coordinators' scopes, and the User admin with those as inlines."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from teams import admin_logins  # noqa: F401  (django-axes' admin, translated)
from teams.admin_names import DeletesLinksQuietlyMixin, TranslatedPermissionsMixin
from teams.history_admin import ReadOnlyHistoryAdmin
from teams.models import (
    Area,
    CoordinatorScope,
    Household,
    HouseholdTag,
    Membership,
    Organisation,
    Team,
    Village,
)
from teams.slugs import slug_from

User = get_user_model()


class SlugFromNameForm(forms.ModelForm):
    """The slug may be left blank: it is then made from the Chinese name, in pinyin
    (teams/slugs.py). On the server, not by the admin's script, which drops Chinese."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _(
                "Leave blank to fill from the name, in pinyin (开干齐 → kaiganqi)."
            )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("name") and "slug" not in self.errors:
            cleaned["slug"] = slug_from(cleaned["name"], self._meta.model, pk=self.instance.pk)
        return cleaned


# --- trees -------------------------------------------------------------------------------


class TreeNodeAdmin(admin.ModelAdmin):
    """A tree read top-down: rows in path order, each name indented by its depth.

    `path` and `depth` are computed by the model's save(); the model's clean() refuses
    a parent inside the node's own subtree, and the form shows that error on `parent`.
    """

    list_display = ["tree_name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "name_en", "slug"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    form = SlugFromNameForm
    ordering = ["path"]

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj):
        return f"{'— ' * obj.depth}{obj.name}"


@admin.register(Organisation)
class OrganisationAdmin(TreeNodeAdmin):
    fields = ["name", "name_en", "slug", "parent", "path", "depth"]


@admin.register(Area)
class AreaAdmin(TreeNodeAdmin):
    list_display = TreeNodeAdmin.list_display + ["kind", "code"]
    list_filter = ["kind"]
    search_fields = TreeNodeAdmin.search_fields + ["code"]
    fields = ["name", "name_en", "slug", "kind", "code", "parent", "path", "depth"]


# --- villages and households --------------------------------------------------------------


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    """A village's households are far too many for an inline: the change page links to
    the household list filtered by the village instead."""

    list_display = ["name", "name_en", "slug", "kind", "area", "household_count"]
    list_select_related = ["area"]
    list_filter = ["kind", "area"]
    search_fields = ["name", "name_en", "slug"]
    autocomplete_fields = ["area"]
    form = SlugFromNameForm
    fields = ["name", "name_en", "slug", "kind", "area", "households_link", "teams_posted"]
    readonly_fields = ["households_link", "teams_posted"]

    def get_queryset(self, request):
        # A correlated count rather than JOIN + GROUP BY: PostgreSQL then counts only the
        # rows of the page (or of an autocomplete answer), not every household there is.
        households = (
            Household.objects.filter(village=OuterRef("pk"))
            .order_by()
            .values("village")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(
            household_count=Coalesce(Subquery(households), 0)
        )

    @admin.display(description=_("number of households"), ordering="household_count")
    def household_count(self, obj):
        return obj.household_count

    @admin.display(description=_("households"))
    def households_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:teams_household_changelist")
        query = urlencode({"village__id__exact": obj.pk})
        label = _("households (%(count)s)") % {"count": obj.household_count}
        return format_html('<a href="{}?{}">{}</a>', url, query, label)

    @admin.display(description=_("teams posted here"))
    def teams_posted(self, obj):
        if obj.pk is None:
            return "—"
        teams = obj.teams.order_by("-starts_on")
        if not teams:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({}–{})',
            (
                (
                    reverse("admin:teams_team_change", args=[team.pk]),
                    team.label,
                    team.starts_on,
                    team.ends_on or "",
                )
                for team in teams
            ),
        )


@admin.register(HouseholdTag)
class HouseholdTagAdmin(DeletesLinksQuietlyMixin, admin.ModelAdmin):
    list_display = ["name", "name_en"]
    search_fields = ["name", "name_en"]


@admin.register(Household)
class HouseholdAdmin(DeletesLinksQuietlyMixin, ReadOnlyHistoryAdmin):
    """What the admin may delete is the notebook's to say (its entries link households):
    worklog/admin.py registers this admin again with that guard."""

    list_display = ["village", "house_number", "head_name", "size", "phone"]
    list_select_related = ["village"]
    list_filter = ["village", "tags"]
    # "=house_number": a search for "12" finds house 12, not 112 and 120 as well.
    search_fields = ["=house_number", "head_name", "village__name"]
    list_per_page = 100
    show_full_result_count = False
    autocomplete_fields = ["village"]
    filter_horizontal = ["tags"]
    fields = ["village", "house_number", "head_name", "size", "phone", "notes", "tags"]


# --- teams and members --------------------------------------------------------------------


class DeploymentFilter(admin.SimpleListFilter):
    """Teams by where today falls in their deployment."""

    title = _("deployment")
    parameter_name = "deployment"

    def lookups(self, request, model_admin):
        return [
            ("current", _("current")),
            ("ended", _("ended")),
            ("upcoming", _("not started yet")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.current(today)
        if self.value() == "ended":
            return queryset.filter(ends_on__lt=today)
        if self.value() == "upcoming":
            return queryset.filter(starts_on__gt=today)
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "joined_on", "left_on"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Team)
class TeamAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "organisation", "village", "starts_on", "ends_on", "is_current"]
    list_select_related = ["organisation", "village"]
    list_filter = ["organisation", DeploymentFilter]
    search_fields = ["name", "name_en", "slug", "village__name"]
    autocomplete_fields = ["organisation", "village"]
    form = SlugFromNameForm
    date_hierarchy = "starts_on"
    fields = ["name", "name_en", "slug", "organisation", "village", "starts_on", "ends_on"]
    inlines = [MembershipInline]

    @admin.display(description=_("current"), boolean=True)
    def is_current(self, obj):
        return obj.is_deployed_on(timezone.localdate())


@admin.register(Membership)
class MembershipAdmin(ReadOnlyHistoryAdmin):
    list_display = ["user", "team", "role", "joined_on", "left_on"]
    list_select_related = ["user", "team"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]


# --- coordinators and users ---------------------------------------------------------------


@admin.register(CoordinatorScope)
class CoordinatorScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "area"]
    list_select_related = ["user", "organisation", "area"]
    list_filter = [
        ("organisation", admin.RelatedOnlyFieldListFilter),
        ("area", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["user__username", "organisation__name", "area__name"]
    autocomplete_fields = ["user", "organisation", "area"]


class CoordinatorScopeInline(admin.TabularInline):
    model = CoordinatorScope
    fields = ["organisation", "area"]
    autocomplete_fields = ["organisation", "area"]
    extra = 0


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fields = ["team", "role", "joined_on", "left_on"]
    autocomplete_fields = ["team"]
    extra = 0


class UserAdmin(TranslatedPermissionsMixin, DeletesLinksQuietlyMixin, DjangoUserAdmin):
    """Django's User admin plus where the user works: team memberships and, for a
    coordinator, the subtrees they oversee; its permissions named in the reader's language."""

    inlines = [UserMembershipInline, CoordinatorScopeInline]
    list_display = DjangoUserAdmin.list_display + ("is_coordinator",)

    def get_inlines(self, request, obj):
        # The add page stays Django's two-step username/password form.
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        scopes = CoordinatorScope.objects.filter(user=OuterRef("pk"))
        return super().get_queryset(request).annotate(has_scope=Exists(scopes))

    @admin.display(description=_("coordinator"), boolean=True, ordering="has_scope")
    def is_coordinator(self, obj):
        return obj.has_scope


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)
