"""Filters of the notebook list and of the household list (django-filter, from the query string).

The notebook's GET parameters of `/notebook/` (and its exports): besides the form's own fields (dates, activities, text, indicator, team, year, deleted) it
takes the drill-down parameters dashboards link with: `org`, `village`, `area` (and
`author`, `household`), kept as hidden fields and shown as removable chips.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.access import visible_households, visible_teams
from teams.models import Household, HouseholdTag
from teams.names import person_name
from worklog.models import Activity, Entry, HouseholdTally, Indicator
from worklog.totals import MAX_YEAR, MIN_YEAR, ScopeNotFound, resolve_scope, year_range
from worklog.widgets import FlagInput, ListedChoices, Select, SelectMultiple

SCOPE_LABELS = {
    "org": _("organisation"),
    "team": _("team"),
    "village": _("village"),
    "area": _("area"),
}


class ScopeField(forms.CharField):
    """A slug of an organisation, team, village or area, cleaned to a `totals.Scope`."""

    def __init__(self, *, kind, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def clean(self, value):
        slug = super().clean(value)
        if not slug:
            return None
        try:
            return resolve_scope(self.kind, slug)
        except ScopeNotFound:
            raise ValidationError(
                _("There is no %(kind)s “%(slug)s”."),
                code="unknown_scope",
                params={"kind": SCOPE_LABELS[self.kind], "slug": slug},
            ) from None


class ScopeFilter(django_filters.Filter):
    """Entries of an organisation or area subtree, a team or a village."""

    field_class = ScopeField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(value.entry_filter())


class YearFilter(django_filters.Filter):
    """Entries dated in a calendar year, as a date range the (team, date) index can use."""

    field_class = forms.IntegerField

    def filter(self, qs, value):
        if value is None:
            return qs
        start, end = year_range(value)
        return qs.filter(date__gte=start, date__lt=end)


class EntryFilterForm(forms.Form):
    """Bootstrap's small controls on every visible field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(field, forms.ModelChoiceField) and not isinstance(widget, forms.HiddenInput):
                field.iterator = ListedChoices
                widget.choices = field.choices
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control form-control-sm")


class FlagFilter(django_filters.Filter):
    """An on/off filter whose method also runs when off (False is not an empty value)."""

    field_class = forms.BooleanField


# Filters the tallies can answer: totals of such a list come from them, not a recount.
TALLY_FILTERS = {"year", "activity", "indicator", "team", "org", "village", "area"}


class EntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Text"),
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("title or notes")}),
    )
    date_from = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    year = YearFilter(
        label=_("Year"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        widget=forms.NumberInput(attrs={"placeholder": "2017"}),
    )
    activity = django_filters.ModelMultipleChoiceFilter(
        to_field_name="code",
        queryset=Activity.objects.all(),
        method="filter_activities",
        label=_("Activities"),
        widget=SelectMultiple(attrs={"size": 5}),
    )
    indicator = django_filters.ModelChoiceFilter(
        to_field_name="code",
        queryset=Indicator.objects.order_by("order", "code"),
        method="filter_indicator",
        label=_("Counts towards"),
        empty_label=_("any indicator"),
        widget=Select,
    )
    team = ScopeFilter(kind="team", label=_("Team"), widget=forms.HiddenInput)
    org = ScopeFilter(kind="org", label=_("Organisation"), widget=forms.HiddenInput)
    village = ScopeFilter(kind="village", label=_("Village"), widget=forms.HiddenInput)
    area = ScopeFilter(kind="area", label=_("Area"), widget=forms.HiddenInput)
    # Querysets set per user in __init__: naming anyone or anything else would reveal it.
    author = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(), label=_("Author"), widget=forms.HiddenInput
    )
    household = django_filters.ModelChoiceFilter(
        field_name="households", queryset=Household.objects.none(), label=_("Household"),
        widget=forms.HiddenInput,
    )
    deleted = FlagFilter(
        method="filter_deleted",
        label=_("Show deleted entries instead"),
        widget=FlagInput,
    )

    class Meta:
        model = Entry
        fields = []
        form = EntryFilterForm

    def __init__(self, data=None, queryset=None, *, request, **kwargs):
        """`queryset`: the entries the user may see (`teams.access.visible_entries`)."""
        super().__init__(data, queryset, request=request, **kwargs)
        self._indicator_activities = {}  # indicator pk: its activities' pks
        # Built only when asked for: hidden fields, used by links from other pages.
        if self.data.get("author"):
            self.filters["author"].queryset = get_user_model().objects.filter(
                pk__in=queryset.values("author")
            )
        if self.data.get("household"):
            self.filters["household"].queryset = visible_households(request.user).select_related(
                "village"
            )
        # Teams to pick from; the view also hides the team column when there is only one.
        self.visible_teams = list(visible_teams(request.user).only("slug", "name", "name_en"))
        if len(self.visible_teams) > 1:
            choices = [("", _("all teams"))] + [(t.slug, t.label) for t in self.visible_teams]
            self.filters["team"].extra["widget"] = Select(choices=choices)

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(notes__icontains=value))

    def filter_activities(self, queryset, name, activities):
        if not activities:  # nothing chosen comes as an empty queryset, not as "empty"
            return queryset
        return queryset.filter(activity__in=[activity.pk for activity in activities])

    def filter_indicator(self, queryset, name, indicator):
        return queryset.filter(activity__in=self.indicator_activities(indicator))

    def indicator_activities(self, indicator):
        """The pks of the indicator's activities, read once. Named in the entries' query
        rather than as a subquery, PostgreSQL knows how many entries they have: behind the
        subquery it guessed a few hundred of an organisation's 750,000 visits in a year
        and read them all (seconds) instead of the newest through the (date, activity)
        index."""
        if indicator.pk not in self._indicator_activities:
            self._indicator_activities[indicator.pk] = list(
                indicator.activities.values_list("pk", flat=True))
        return self._indicator_activities[indicator.pk]

    def filter_deleted(self, queryset, name, value):
        # Called with False too (False is not an "empty" value): live entries by default.
        return queryset.exclude(deleted_at=None) if value else queryset.live()

    def tally_conditions(self):
        """The filters as a Q object on tally rows, or None when a filter (text, dates,
        author, household, deleted) reaches below what the tallies keep."""
        data = self.form.cleaned_data
        used = {name for name, value in data.items() if value not in (None, "", False) and not (
            name == "activity" and not value)}
        if used - TALLY_FILTERS:
            return None
        condition = Q()
        if data.get("year"):
            condition &= Q(year=data["year"])
        for kind in SCOPE_LABELS:
            if data.get(kind):
                condition &= data[kind].entry_filter()
        if data.get("activity"):
            condition &= Q(activity__in=[activity.pk for activity in data["activity"]])
        if data.get("indicator"):
            condition &= Q(activity__in=self.indicator_activities(data["indicator"]))
        return condition

    @property
    def shows_deleted(self):
        return self.is_valid() and bool(self.form.cleaned_data.get("deleted"))

    @property
    def chosen_indicator(self):
        return self.form.cleaned_data.get("indicator") if self.is_valid() else None

    def active_filters(self):
        """(label, value, query string without it) for each filter in use: the chips."""
        if not self.is_valid():
            return []
        chips = []
        for name, value in self.form.cleaned_data.items():
            if value is None or value == "" or value is False or (name == "activity" and not value):
                continue
            text = self._chip_text(name, value)
            query = self.data.copy()
            for param in (name, "page"):
                query.pop(param, None)
            chips.append((self.form.fields[name].label, text, query.urlencode()))
        return chips

    @staticmethod
    def _chip_text(name, value):
        if name == "activity":
            return ", ".join(activity.label for activity in value)
        if name in SCOPE_LABELS:
            return value.name
        if name == "household":
            return f"{value.village.label} {value.house_number} · {value.head_name}"
        if name == "author":
            return person_name(value)
        if name == "deleted":
            return _("yes")
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)


class HouseholdFilter(django_filters.FilterSet):
    """`q` (house number or head's name), `tag`, `village` (slug) and `visited`: the
    households visited this year (`yes`), or the work list of those not visited this year
    (`no`), this quarter (`no-quarter`) or this month (`no-month`).

    `villages` are the villages the user sees; with only one there is nothing to choose
    and the village filter is left out.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={
            "type": "search", "placeholder": _("House number or head of household"),
        }),
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), queryset=HouseholdTag.objects.all(), method="with_tag",
        empty_label=_("all tags"),
    )
    village = django_filters.ModelChoiceFilter(
        label=_("Village"), field_name="village", to_field_name="slug", queryset=None,
        empty_label=_("all villages"),
    )
    visited = django_filters.ChoiceFilter(
        label=_("Visits"),
        choices=[
            ("no-month", _("not visited this month")),
            ("no-quarter", _("not visited this quarter")),
            ("no", _("not visited this year")),
            ("yes", _("visited this year")),
        ],
        method="by_visits",
        empty_label=_("either"),
    )

    class Meta:
        model = Household
        fields = []

    def __init__(self, data=None, queryset=None, *, villages, **kwargs):
        super().__init__(data, queryset, **kwargs)
        if len(villages) > 1:
            self.filters["village"].queryset = villages
        else:
            del self.filters["village"]
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def search(self, households, name, value):
        return households.filter(Q(house_number__icontains=value) | Q(head_name__icontains=value))

    def with_tag(self, households, name, tag):
        # a subquery, so that joining the tags cannot multiply the rows being counted
        return households.filter(pk__in=Household.objects.filter(tags=tag).values("pk"))

    def by_visits(self, households, name, value):
        """A visit is a live entry linked to the household and dated in the period: the
        household tallies count exactly those, per month. At 300,000 households each
        period is read through an index: the month and the quarter through the
        (year, month, household …) key, the year through the (year, activity, team)
        index that carries the household and its visits."""
        today = timezone.localdate()
        visits = HouseholdTally.objects.filter(household=OuterRef("pk"), year=today.year, visits__gt=0)
        if value == "no-month":
            visits = visits.filter(month=today.month)
        elif value == "no-quarter":
            first = today.month - (today.month - 1) % 3
            visits = visits.filter(month__in=[first, first + 1, first + 2])
        return households.filter(Exists(visits) if value == "yes" else ~Exists(visits))
