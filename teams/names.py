"""How people and households are named on pages, in files and in the audit trail: one
rule, so that the header, the notebook, its exports and the history call someone the same."""

from django.utils.translation import gettext as _


def person_name(user):
    """A user as people name them: the full name, else the username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def household_name(household):
    """"12号 王某某": the house number and the head of the household."""
    return _("No. %(house_number)s %(head_name)s") % {
        "house_number": household.house_number, "head_name": household.head_name,
    }
