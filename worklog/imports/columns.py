"""The columns of an entries file, once: the header names the import reads (DESIGN §6, a
contract: they stay the same in every language), which are required, what kind of value each
takes and what to write in it; and the names a row may give its activity. The import checks
headers against these names; the template (worklog.imports.template) writes them as its
header and explains them.
"""

from collections import defaultdict
from typing import NamedTuple

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from worklog.imports.reading import _Bad, _quoted, shown


class Column(NamedTuple):
    name: str
    kind: str  # date, text, count or funds: how the template formats the column
    required: bool
    help: str  # what to write, for whoever fills the template; sheets by name:
    # %(teams)s, %(activities)s, %(households)s


ENTRY_SPEC = (
    Column("date", "date", True, _("The day of the work, YYYY-MM-DD (a date cell is fine).")),
    Column("team", "text", True, _("The team's code, from the sheet “%(teams)s”.")),
    Column("village", "text", False, _("Leave empty: the team's village.")),
    Column("activity", "text", True, _(
        "The activity: its Chinese name, English name or code, from the sheet “%(activities)s”.")),
    Column("households", "text", False, _(
        "House numbers of the team's village, separated by “;” (sheet “%(households)s”).")),
    Column("participants", "count", False, _("People taking part (person-times), a whole number.")),
    Column("sessions", "count", False, _("Sessions held, a whole number.")),
    Column("quantity", "count", False, _(
        "What the activity counts (see “%(activities)s”), a whole number.")),
    Column("funds", "funds", False, _("Yuan, at most 2 decimal places.")),
    Column("title", "text", False, _("A short title, at most 200 characters.")),
    Column("notes", "text", False, _("Anything else, at most 5,000 characters.")),
    Column("uuid", "text", False, _(
        "Leave empty; the import makes one. Given, it marks the entry so a re-import finds it.")),
)
ENTRY_COLUMNS = tuple(column.name for column in ENTRY_SPEC)
ENTRY_REQUIRED = tuple(column.name for column in ENTRY_SPEC if column.required)


class ActivityNames:
    """What a row may write for its activity, looked up in this order: the code, the Chinese
    name, the English name in any case. Names need not be unique: a name two activities
    share is a problem naming their codes, not a guess."""

    def __init__(self, activities):
        self.codes, self.names, self.english = {}, defaultdict(list), defaultdict(list)
        for activity in activities:
            self.codes[activity.code] = [activity]
            self.names[activity.name.strip()].append(activity)
            if activity.name_en.strip():
                self.english[activity.name_en.strip().casefold()].append(activity)

    def named(self, text):
        """The activity `text` names; raises _Bad when none or several."""
        for names, key in ((self.codes, text), (self.names, text), (self.english, text.casefold())):
            found = names.get(key, ())
            if len(found) > 1:
                raise _Bad(gettext("“%(name)s” names several activities; write the code of the "
                                   "one meant: %(codes)s.") % {
                                       "name": shown(text), "codes": _quoted(sorted(a.code for a in found))})
            if found:
                return found[0]
        raise _Bad(gettext("Unknown activity “%(code)s”.") % {"code": shown(text)})
