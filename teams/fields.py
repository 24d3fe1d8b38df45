"""Form fields that choose rows by primary key and refuse ids no database column can hold
(a hostile "99999999999999999999" must be a form error, not a database overflow)."""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


def _refuse_impossible_ids(field, values):
    for value in values:
        text = str(value).strip()
        if text and not (text.isascii() and text.isdigit() and int(text) <= MAX_ID):
            raise ValidationError(
                field.error_messages["invalid_pk_value"] if "invalid_pk_value" in field.error_messages
                else field.error_messages["invalid_choice"],
                code="invalid_pk_value",
                params={"pk": text, "value": text},
            )


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values:
            _refuse_impossible_ids(self, [value])
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        _refuse_impossible_ids(self, value if isinstance(value, (list, tuple)) else [value])
        return super()._check_values(value)
