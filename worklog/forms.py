"""The notebook entry form (field names are a contract, DESIGN §7)."""

import uuid as uuid_module
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.models import Household
from worklog.fields import IdChoiceField, IdMultipleChoiceField
from worklog.models import Activity

MAX_COUNT = 1_000_000
MAX_FUNDS = Decimal("9999999999.99")
MEASURE_LABELS = {
    "participants": _("participants"),
    "sessions": _("sessions"),
    "quantity": _("quantity"),
    "funds": _("funds"),
    "households": _("households"),
}


class HouseholdChoiceField(IdMultipleChoiceField):
    def label_from_instance(self, household):
        return f"{household.house_number} · {household.head_name}"


def count_field(label):
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=MAX_COUNT, initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "step": 1}),
    )


class EntryForm(forms.Form):
    """One notebook line. `team` is asked only of a member with several current teams.

    `teams` are the teams the user may write for; `entry` is given when editing (its team
    is fixed then and `version` carries the optimistic lock).
    """

    team = IdChoiceField(label=_("team"), queryset=None, required=False)
    date = forms.DateField(
        label=_("date"), input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    activity = IdChoiceField(
        label=_("activity"), queryset=Activity.objects.filter(is_active=True)
    )
    households = HouseholdChoiceField(
        label=_("households"), queryset=Household.objects.none(), required=False
    )
    participants = count_field(_("participants"))
    sessions = count_field(_("sessions"))
    quantity = count_field(_("quantity"))
    funds = forms.DecimalField(
        label=_("funds (yuan)"), required=False, min_value=0, max_value=MAX_FUNDS,
        max_digits=12, decimal_places=2, initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": 0, "step": "0.01"}),
    )
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(
        label=_("reason for the amendment"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only for a month that is already reported: a coordinator will decide."),
    )
    uuid = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, teams, entry=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.entry = entry
        self.teams = list(teams)
        self.fields["team"].queryset = teams
        villages = [entry.village_id] if entry else [team.village_id for team in self.teams]
        self.fields["households"].queryset = Household.objects.filter(village_id__in=villages)
        if entry is not None or len(self.teams) <= 1:
            del self.fields["team"]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        if entry is None:
            del self.fields["version"]
            self.fields["uuid"].initial = uuid_module.uuid4()
        else:
            del self.fields["uuid"]
            self.fields["version"].required = True

    @property
    def chosen_team(self):
        if self.entry is not None:
            return self.entry.team
        if "team" in self.fields:
            return self.cleaned_data.get("team")
        return self.teams[0] if self.teams else None

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day

    def clean(self):
        data = super().clean()
        if "team" in self.fields and not data.get("team") and "team" not in self.errors:
            self.add_error("team", _("Choose the team this entry is for."))
        team = self.chosen_team
        day, activity = data.get("date"), data.get("activity")
        if team is not None and day is not None and not team.is_deployed_on(day):
            self.add_error("date", _("The team was not deployed on %(date)s.") % {"date": day})
        for name in ("participants", "sessions", "quantity"):
            data[name] = data.get(name) or 0
        data["funds"] = data.get("funds") or Decimal("0.00")
        households = data.get("households") or []
        if team is not None:
            strangers = [h for h in households if h.village_id != team.village_id]
            if strangers:
                self.add_error("households", _("Households must be of the team's village."))
        if activity is not None:
            self._check_measures(activity, data, households)
        return data

    def _check_measures(self, activity, data, households):
        used = set(activity.measures_used())
        for name in ("participants", "sessions", "quantity", "funds"):
            if name not in used and data.get(name) and name not in self.errors:
                self.add_error(name, _("%(activity)s does not record %(measure)s.") % {
                    "activity": activity.label, "measure": MEASURE_LABELS[name],
                })
        if "households" in used:
            if not households and "households" not in self.errors:
                self.add_error("households", _("Choose at least one household."))
        elif households:
            self.add_error("households", _("%(activity)s does not record %(measure)s.") % {
                "activity": activity.label, "measure": MEASURE_LABELS["households"],
            })

    def entry_values(self):
        """The cleaned values as keyword arguments of the services."""
        data = self.cleaned_data
        names = ("date", "activity", "title", "notes", "participants", "sessions",
                 "quantity", "funds")
        values = {name: data[name] for name in names}
        values["households"] = list(data.get("households") or [])
        return values
