"""Filters of the household list (django-filter, from the query string)."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Household, HouseholdTag
from worklog.models import Entry


class HouseholdFilter(django_filters.FilterSet):
    """`q` (house number or head's name), `tag`, `village` (slug) and `visited` this year.

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
        label=_("Visited this year"),
        choices=[("yes", _("yes")), ("no", _("no"))],
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
        visits = Entry.objects.live().filter(
            households=OuterRef("pk"), date__year=timezone.localdate().year
        )
        return households.filter(Exists(visits) if value == "yes" else ~Exists(visits))
