"""What makes a notebook entry valid (DESIGN §3): the rules every writer calls — the
notebook form, the admin, the import (over each distinct value of a file), the services
(and so amendments and, later, sync).

Plain functions over values already read (a Team, a date, an Activity, Household objects,
the amounts); no forms, and no queries but to word an error. They answer field →
[ValidationError], each error with a code, so that a form adds them to its fields and a
file's reader can word its own messages where it must. A value given as None could not be
read: its field has said so already, and the rules that need it are skipped.
"""

from collections import Counter, defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_COUNT = 1_000_000
MAX_FUNDS = Decimal("9999999999.99")
COUNTS = ("participants", "sessions", "quantity")
AMOUNTS = (*COUNTS, "funds")
MEASURE_LABELS = {
    "participants": _("participants"),
    "sessions": _("sessions"),
    "quantity": _("quantity"),
    "funds": _("funds"),
    "households": _("households"),
}


def entry_errors(*, team, date, activity, households, amounts, village=None, today=None):
    """Every rule an entry breaks, as {field: [ValidationError]}; {} for a valid entry.

    `amounts`: participants, sessions, quantity and funds (an absent one counts as 0).
    `village`: the village given for the entry; None means its team's.
    """
    errors = defaultdict(list)
    if team is not None and village is not None and village.pk != team.village_id:
        errors["village"].append(ValidationError(
            _("An entry's village is its team's village."), code="other_village"))
    if date is not None:
        error = date_error(team, date, today)
        if error:
            errors["date"].append(error)
    if households:
        for error in (households_error(team, village, households),
                      repeated_households_error(households)):
            if error:
                errors["households"].append(error)
    for name, error in amount_errors(amounts):
        errors[name].append(error)
    if activity is not None:
        for name, error in measure_errors(activity, amounts, households):
            errors[name].append(error)
    return dict(errors)


def validate_entry(**values):
    """Raise ValidationError({field: [errors]}) when the entry breaks a rule."""
    errors = entry_errors(**values)
    if errors:
        raise ValidationError(errors)


def date_error(team, date, today=None):
    """Not in the future (local date), and within the team's deployment."""
    if date > (today or timezone.localdate()):
        return ValidationError(_("The date cannot be in the future."), code="future")
    if team is not None and not team.is_deployed_on(date):
        return ValidationError(
            _("The team was not deployed on %(date)s."), code="not_deployed",
            params={"date": date},
        )
    return None


def households_error(team, village, households):
    """Households of the team's village only (of `village` when the team could not be
    read). Compared by id: the village is read only to word the error."""
    if team is None and village is None:
        return None
    home_id = team.village_id if team is not None else village.pk
    strangers = [household for household in households if household.village_id != home_id]
    if not strangers:
        return None
    return ValidationError(
        _("Not households of %(village)s: %(households)s"), code="other_village",
        params={"village": team.village if team is not None else village,
                "households": ", ".join(map(str, strangers))},
    )


def repeated_households_error(households):
    """No household twice in one entry. `households` as given: Household objects, or the
    house numbers of a file's cell."""
    counts = Counter(households)
    twice = [household for household, count in counts.items() if count > 1]
    if not twice:
        return None
    return ValidationError(
        _("Household %(households)s is given twice."), code="twice",
        params={"households": "、".join(f"“{household}”" for household in twice)},
    )


def amount_errors(amounts):
    """[(field, error)] for counts and funds out of the notebook's range, in the words of
    the form's own fields."""
    errors = []
    for name, amount in amounts.items():
        if amount is None:
            continue
        maximum = MAX_FUNDS if name == "funds" else MAX_COUNT
        for validator in (MinValueValidator(0), MaxValueValidator(maximum)):
            try:
                validator(amount)
            except ValidationError as error:
                errors.append((name, error))
    return errors


def measure_errors(activity, amounts, households):
    """[(field, error)]: an entry carries only the figures its activity records, and the
    households when it records them (then at least one; None: not known)."""
    used = set(activity.measures_used())
    errors = [
        (name, _not_recorded(activity, name))
        for name in AMOUNTS if amounts.get(name) and name not in used
    ]
    if "households" not in used:
        if households:
            errors.append(("households", _not_recorded(activity, "households")))
    elif households is not None and not households:
        errors.append(("households", ValidationError(
            _("Choose at least one household."), code="households_required")))
    return errors


def _not_recorded(activity, measure):
    return ValidationError(
        _("%(activity)s does not record %(measure)s."), code="not_recorded",
        params={"activity": activity.label, "measure": MEASURE_LABELS[measure]},
    )
