"""The one rule for text coming in, from every door: forms, the admin, query parameters,
JSON (the sync), spreadsheet imports and the command line.

NUL is refused with a message: PostgreSQL cannot store it and no person types it. The other
C0 control characters but tab, newline and carriage return (a vertical tab pasted from Word,
an escape from a terminal) are removed: they carry nothing a reader sees, and a spreadsheet
cannot hold them (openpyxl refuses them, so an export would fail). So are unpaired UTF-16
surrogates, which only a JSON string can carry (a form's bytes are decoded with
replacement) and no database can store. Line breaks are stored as LF: a browser sends a
textarea's as CR LF, a spreadsheet's cells and the import read LF, and the same note must
not look changed on its way back in.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NUL = "\x00"
INVISIBLE_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")
LONE_SURROGATES = re.compile("[\ud800-\udfff]")  # a paired one is a single character in Python
NUL_MESSAGE = _("The text contains a NUL character (\\0), which cannot be stored. Remove it and try again.")


def clean_text(value):
    """`value` without invisible control characters or lone surrogates, line breaks as LF;
    ValidationError if it holds a NUL."""
    if not isinstance(value, str):
        return value
    if NUL in value:
        raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
    value = INVISIBLE_CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return LONE_SURROGATES.sub("", value)


def printable(value):
    """Stored text made safe for a spreadsheet cell: control characters (NUL too) dropped.

    For exports of text stored before the rule held, or written by a path that skipped it:
    an export never fails on what is in the database.
    """
    if not isinstance(value, str):
        return value
    return INVISIBLE_CONTROLS.sub("", value.replace(NUL, ""))
