"""Form fields that choose rows by primary key and refuse ids no database column can hold
(a hostile "99999999999999999999" must be a form error, not a database overflow)."""

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1


def is_possible_id(value):
    """Whether a database id column can hold `value` (text or a number)."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


def _refuse_impossible_ids(field, values):
    for value in values:
        text = str(value).strip()
        if text and not is_possible_id(text):
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


class MappedChoiceField(IdChoiceField):
    """IdChoiceField that may find its choice in a mapping read beforehand ({str(key):
    object}, the key the field's `to_field_name` or the pk) instead of by a query: a batch
    of forms (the sync) reads its choices once. The same checks and messages; without a
    mapping it is the IdChoiceField."""

    choices_by_key = None

    def to_python(self, value):
        if self.choices_by_key is None:
            return super().to_python(value)
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        key = str(value)
        if self.to_field_name is None:
            _refuse_impossible_ids(self, [value])
            # The pk as the database reads it: " 05" finds 5, as a query by pk would.
            key = str(int(key.strip())) if key.strip() else key
        try:
            return self.choices_by_key[key]
        except KeyError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value},
            ) from None


class MappedMultipleChoiceField(IdMultipleChoiceField):
    """IdMultipleChoiceField that may find its choices in a mapping read beforehand ({str(pk):
    object}), as MappedChoiceField; it answers a list then (in the order given, each once)
    rather than a queryset."""

    choices_by_key = None

    def clean(self, value):
        if self.choices_by_key is None:
            return super().clean(value)
        value = self.prepare_value(value)
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if not value:
            return []
        if not isinstance(value, (list, tuple)):
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        chosen = self._check_values(value)
        self.run_validators(value)
        return chosen

    def _check_values(self, value):
        if self.choices_by_key is None:
            return super()._check_values(value)
        _refuse_impossible_ids(self, value)
        try:
            given = list(dict.fromkeys(value))
        except TypeError:  # a list of lists is not hashable
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list") from None
        for pk in given:
            self.validate_no_null_characters(pk)
        chosen = []
        for pk in given:
            try:
                chosen.append(self.choices_by_key[str(pk)])
            except KeyError:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk},
                ) from None
        return chosen
