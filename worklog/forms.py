"""The notebook entry form (field names are a contract, DESIGN §7)."""

import copy
import uuid as uuid_module
from decimal import Decimal
from typing import NamedTuple

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.translation import gettext_lazy as _

from teams import statements
from teams.models import Household, Team
from teams.fields import is_possible_id, MappedChoiceField, MappedMultipleChoiceField
from teams.rows import columns, read_row
from worklog.models import Activity
from worklog.rules import AMOUNTS, COUNTS, MAX_COUNT, MAX_FUNDS, validate_entry


class HouseholdChoiceField(MappedMultipleChoiceField):
    """Options read "12 · head of household", then " · village" when the form offers
    several villages' households (a member of several teams): the same number is found in
    each village. The picker (entry_form.js) reads the number before the first " · "."""

    show_village = False

    def label_from_instance(self, household):
        label = f"{household.house_number} · {household.head_name}"
        return f"{label} · {household.village.label}" if self.show_village else label


def _listed(values):
    return f"({', '.join(['%s'] * len(values))})"


def _read(model, where, params):
    """The `model` instances of a plain statement's rows (prepared: teams.statements)."""
    connection = connections[router.db_for_read(model)]
    with connection.cursor() as cursor:
        statements.execute(cursor, f"SELECT {columns(model)} FROM {model._meta.db_table} WHERE {where}", params)
        return [instance for [instance] in (read_row((model,), connection, row) for row in cursor.fetchall())]


class FormChoices(NamedTuple):
    """What an entry form's fields choose from, read once for a batch of forms:
    {code: Activity} (the active ones the batch names), {str(pk): Household} (those of the
    teams' villages the batch names), {str(pk): Team} (the teams the user may write for)."""

    activities: dict
    households: dict
    teams: dict

    @classmethod
    def read(cls, *, teams, activity_codes, household_ids):
        """The choices of forms for `teams` whose activities are among `activity_codes`
        and households among `household_ids` (given as text; those no id can be are left
        out): two plain statements at most. Same rule as the form's own querysets (the
        active activities; the households of the teams' villages): a code or id left out
        is the field's "not one of the choices"."""
        teams = list(teams)
        codes = sorted({code for code in activity_codes if isinstance(code, str)})
        ids = sorted({int(text) for text in household_ids if is_possible_id(text)})
        villages = sorted({team.village_id for team in teams})
        return cls(
            activities={activity.code: activity for activity in (
                _read(Activity, f"is_active AND code IN {_listed(codes)}", codes) if codes else [])},
            households={str(household.pk): household for household in (
                _read(Household, f"village_id IN {_listed(villages)} AND id IN {_listed(ids)}", [*villages, *ids])
                if ids and villages else [])},
            teams={str(team.pk): team for team in teams},
        )


class BatchFields(dict):
    """Fields shared by a batch of forms (EntryForm.batch_fields): the form's deep copy of
    them is a new dict of the same fields."""

    def __deepcopy__(self, memo):
        return dict(self)


def count_field(label):
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=MAX_COUNT, initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "step": 1}),
    )


class EntryForm(forms.Form):
    """One notebook line. `team` is asked only of a member with several current teams.

    `teams` are the teams the user may write for (a list or a queryset); `entry` is given
    when editing (its team is fixed then and `version` carries the optimistic lock).
    `choices` (FormChoices), when given, are the activities, households and teams read
    once for a batch of forms (the sync): the fields find their choices there instead of
    querying, with the same checks and messages.
    """

    team = MappedChoiceField(label=_("team"), queryset=None, required=False)
    date = forms.DateField(
        label=_("date"), input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    activity = MappedChoiceField(
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

    def __init__(self, *args, teams, entry=None, choices=None, fields=None, **kwargs):
        if fields is not None:
            self.base_fields = fields  # shadows the class's: BatchFields copies itself cheaply
        super().__init__(*args, **kwargs)
        self.entry = entry
        self.teams = list(teams)
        villages = {entry.village_id} if entry else {team.village_id for team in self.teams}
        if choices is not None:
            self.fields["activity"].choices_by_key = choices.activities
            self.fields["households"].choices_by_key = choices.households
        else:
            households = Household.objects.filter(village_id__in=villages)
            if len(villages) > 1:
                self.fields["households"].show_village = True
                households = households.select_related("village").by_house_number("village__name")
            else:
                households = households.by_house_number()
            self.fields["households"].queryset = households
        if entry is not None or len(self.teams) <= 1:
            del self.fields["team"]
        elif choices is not None:
            self.fields["team"].choices_by_key = choices.teams
        else:
            self.fields["team"].queryset = self.team_choices()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        if entry is None:
            del self.fields["version"]
            self.fields["uuid"].initial = uuid_module.uuid4()
        else:
            del self.fields["uuid"]
            self.fields["version"].required = True

    @classmethod
    def batch_fields(cls):
        """The form's fields copied once for a batch of forms read one after another in
        one thread (the sync): given as `fields`, each form gets its own dict of these
        fields instead of deep copies of every field (≈ 0.8 ms of CPU per form under
        cProfile). The fields are not changed by cleaning; a form of the batch must not
        change them otherwise than as every other form of the batch does."""
        return BatchFields(copy.deepcopy(cls.base_fields))

    def team_choices(self):
        """`teams` as the team field's queryset; `teams` may be a list already read
        (teams.access.writable_teams_list)."""
        return Team.objects.filter(pk__in=[team.pk for team in self.teams])

    @property
    def chosen_team(self):
        if self.entry is not None:
            return self.entry.team
        if "team" in self.fields:
            return self.cleaned_data.get("team")
        return self.teams[0] if self.teams else None

    def clean(self):
        data = super().clean()
        if "team" in self.fields and not data.get("team") and "team" not in self.errors:
            self.add_error("team", _("Choose the team this entry is for."))
        for name in COUNTS:
            data[name] = data.get(name) or 0
        data["funds"] = data.get("funds") or Decimal("0.00")
        households = data.get("households")
        try:
            validate_entry(
                team=self.chosen_team, date=data.get("date"), activity=data.get("activity"),
                households=None if households is None else list(households),
                amounts={name: data[name] for name in AMOUNTS},
                # An edited entry stays in its village, which must still be its team's.
                village=self.entry.village if self.entry is not None else None,
            )
        except ValidationError as error:
            self.add_rule_errors(error)
        return data

    def add_rule_errors(self, error):
        """Each message of worklog.rules' ValidationError on its field, or above the form
        for a rule without a field here (the village)."""
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)

    def entry_values(self):
        """The cleaned values as keyword arguments of the services."""
        data = self.cleaned_data
        names = ("date", "activity", "title", "notes", "participants", "sessions",
                 "quantity", "funds")
        values = {name: data[name] for name in names}
        values["households"] = list(data.get("households") or [])
        return values
