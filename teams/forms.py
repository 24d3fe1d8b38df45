"""The household form of team leaders."""

from django import forms

from teams.models import HOUSEHOLD_SIZE_MAX, Household
from teams.fields import IdChoiceField, IdMultipleChoiceField


class HouseholdForm(forms.ModelForm):
    """`villages` are those the user manages. With only one, the village is fixed: the
    field stays in the form (disabled, not shown) so that the one-number-per-village
    constraint is still checked, and its message shown, before saving."""

    class Meta:
        model = Household
        fields = ["village", "house_number", "head_name", "size", "phone", "tags", "notes"]
        field_classes = {"village": IdChoiceField, "tags": IdMultipleChoiceField}
        widgets = {
            # The limit itself is the model's validator; `max` lets the phone say so early.
            "size": forms.NumberInput(
                attrs={"inputmode": "numeric", "min": 0, "max": HOUSEHOLD_SIZE_MAX, "step": 1}
            ),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "tags": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        village = self.fields["village"]
        village.queryset = villages
        only = list(villages[:2])
        self.fixed_village = only[0] if len(only) == 1 else None
        if self.fixed_village:
            village.disabled = True
            village.initial = self.fixed_village.pk
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
