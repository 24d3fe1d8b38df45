"""Form widgets and choice lists of the notebook's and the household list's filters,
written for speed: options in one Python pass, a list's choices by one plain query."""

import django_filters
from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe


def _attributes(attrs):
    """Attributes as Django's `widgets/attrs.html` writes them: in order, True bare,
    False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in attrs.items() if value is not False
    )


class OptionsInPython:
    """A select whose options are written in Python, the same HTML as Django's
    `select.html` (without option groups, which these lists do not have), rather than one
    template include per option: a coordinator's list of a thousand teams took most of
    the page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            f'\n  <option value="{escape(option["value"])}"{_attributes(option["attrs"])}>'
            f'{escape(option["label"])}</option>\n'
            for _group, group_options, _index in widget["optgroups"] for option in group_options
        )
        return mark_safe(
            f'<select name="{escape(widget["name"])}"{_attributes(widget["attrs"])}>{options}\n</select>'
        )


class Select(OptionsInPython, forms.Select):
    pass


class SelectMultiple(OptionsInPython, forms.SelectMultiple):
    pass


class FlagInput(forms.CheckboxInput):
    """A checkbox sent as `name=1`; `0`, `false` or nothing means off."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: str(value).lower() in ("1", "true", "on"))

    def format_value(self, value):
        return "1"

    def value_from_datadict(self, data, files, name):
        return data.get(name)  # BooleanField reads "0" and "false" as off


class ListedChoices(django_filters.fields.ModelChoiceIterator):
    """A list's choices read by one plain query: Django reads them through
    `queryset.iterator()`, on PostgreSQL a server-side cursor (DECLARE, FETCH, CLOSE)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)
