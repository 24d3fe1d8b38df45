"""Amendments: the change a team files for a reported (locked) month, and the coordinator's
decision. Accepting applies it through the notebook's services (worklog.services), so the
rules, the audit and the tallies hold as for any other change; this module sits above both
the services and worklog.locking, which import nothing from it.

A new entry filed as an amendment keeps its form's uuid in `Amendment.uuid` (unique): the
uuid is held from the filing on, so no entry can be logged with it meanwhile, and
accepting the amendment creates exactly that entry or refuses with a reason.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Household
from worklog import services
from worklog.locking import UuidHeldByAmendment
from worklog.models import Activity, Amendment, Entry


class AlreadyDecided(Exception):
    pass


class AlreadyFiled(Exception):
    """This form's amendment was filed before (a repeat of the same submit)."""

    def __init__(self, amendment):
        super().__init__(amendment.pk)
        self.amendment = amendment


class CannotApply(Exception):
    """The amendment cannot be applied as filed; the message says why (for the coordinator)."""


def proposed_values(cleaned):
    """The entry form's cleaned values as JSON an amendment keeps."""
    return {
        "date": cleaned["date"].isoformat(),
        "activity": cleaned["activity"].pk,
        "households": sorted(h.pk for h in cleaned.get("households") or []),
        "participants": cleaned["participants"],
        "sessions": cleaned["sessions"],
        "quantity": cleaned["quantity"],
        "funds": str(cleaned["funds"]),
        "title": cleaned["title"],
        "notes": cleaned["notes"],
    }


def entry_values(values):
    """Back from JSON to the services' keyword arguments."""
    try:
        funds = Decimal(values["funds"])
    except (InvalidOperation, KeyError):
        funds = Decimal("0.00")
    return {
        "date": date.fromisoformat(values["date"]),
        "activity": Activity.objects.get(pk=values["activity"]),
        "households": list(Household.objects.filter(pk__in=values.get("households", []))),
        "participants": values.get("participants", 0),
        "sessions": values.get("sessions", 0),
        "quantity": values.get("quantity", 0),
        "funds": funds,
        "title": values.get("title", ""),
        "notes": values.get("notes", ""),
    }


def file_amendment(*, team, user, kind, reason, entry=None, values=None, uuid=None):
    """File the amendment and return it.

    A new entry's amendment holds its form's `uuid` from now on. The same form sent again
    by the same team raises AlreadyFiled (with the amendment filed first); used by another
    team, or already an entry's, the uuid is refused with UuidHeldByAmendment, revealing
    nothing.
    """
    if uuid is None:
        return Amendment.objects.create(
            team=team, entry=entry, entry_version=entry.version if entry else None, kind=kind,
            values=values or {}, reason=reason, filed_by=user,
        )
    held = Amendment.objects.filter(uuid=uuid).first()
    if held is None and not Entry.objects.filter(uuid=uuid).exists():
        try:
            with transaction.atomic():
                return Amendment.objects.create(
                    team=team, kind=kind, uuid=uuid, values=values or {}, reason=reason, filed_by=user,
                )
        except IntegrityError:  # the same form filed at the same moment
            held = Amendment.objects.filter(uuid=uuid).first()
    if held is None or held.team_id != team.pk:
        raise UuidHeldByAmendment(uuid)
    raise AlreadyFiled(held)


@transaction.atomic
def accept_amendment(*, amendment, user, note=""):
    """Apply the amendment through the notebook's services (tallies follow) and close it.

    Raises services.StaleEntry if the entry changed after the amendment was filed, and
    CannotApply when a new entry's uuid already names an entry (filed before uuids were
    held, or by an import) or the values break the notebook's rules (worklog.rules: say, the
    team's deployment was shortened since): then nothing is applied and the amendment stays
    pending, for the coordinator to reject with a note — as with a stale entry, the decision
    stays theirs.
    """
    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != Amendment.Status.PENDING:
        raise AlreadyDecided(amendment.pk)
    try:
        _apply(amendment, user)
    except ValidationError as error:
        raise CannotApply(_("This amendment breaks the notebook's rules: %(problems)s Reject it "
                            "and ask the team to file it again.")
                          % {"problems": " ".join(error.messages)}) from None
    return _decide(amendment, user, Amendment.Status.ACCEPTED, note)


def _apply(amendment, user):
    if amendment.kind == Amendment.Kind.CREATE:
        try:
            entry, created = services.entry_create(
                uuid=amendment.uuid, team=amendment.team, author=amendment.filed_by,
                through_amendment=True, **entry_values(amendment.values),
            )
        except services.UuidTakenByAnotherTeam:
            created = False
        if not created:
            raise CannotApply(_("An entry with this form's id exists already, so this amendment "
                                "cannot be applied as filed. Reject it and ask the team to file "
                                "it again from a new form."))
        amendment.entry = entry
    elif amendment.kind == Amendment.Kind.CHANGE:
        services.entry_update(
            entry=amendment.entry, version=amendment.entry_version, editor=user,
            through_amendment=True, **entry_values(amendment.values),
        )
    else:
        services.entry_soft_delete(
            entry=amendment.entry, user=user, version=amendment.entry_version, through_amendment=True,
        )


@transaction.atomic
def reject_amendment(*, amendment, user, note=""):
    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != Amendment.Status.PENDING:
        raise AlreadyDecided(amendment.pk)
    return _decide(amendment, user, Amendment.Status.REJECTED, note)


def _decide(amendment, user, status, note):
    amendment.status = status
    amendment.decided_by = user
    amendment.decided_at = timezone.now()
    amendment.decision_note = note
    amendment.save()
    return amendment
