"""`POST /api/sync`: a phone's outbox of new entries, as JSON (DESIGN §6).

One more writer through the notebook's rules and services: each entry is read by the entry
form (its fields, rules and messages, in the user's language), the batch is written by
`services.entries_create` in one transaction, and an entry whose month was locked meanwhile
is filed as an amendment, as the form files it. Each entry stands alone; the answer says,
in the order of the request, what became of each. The batch's choices (activities,
households named, teams) are read once for all its entries (worklog.forms.FormChoices), and
the households of its replays at once: a batch reads a constant number of queries.

What became of each entry:

- `created`; `present` (its uuid made an entry with the same content before: a replay of
  an outbox whose answer was lost);
- `amendment` (its month is locked: filed for a coordinator to decide);
- `refused`, with `errors` {field: [messages]} (`__all__` for the entry as a whole). A uuid
  already used by another entry — another team's, or with other content — is refused
  without saying anything of that entry.
"""

import copy
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from teams.access import writable_teams_list
from teams.fields import MappedChoiceField
from teams.text import clean_text
from worklog.amendments import AlreadyFiled, file_amendment, proposed_values
from worklog.forms import EntryForm, FormChoices
from worklog.locking import MonthLocked, UuidHeldByAmendment
from worklog.models import Activity, Amendment, EntryHousehold
from worklog.services import entries_create

MAX_ENTRIES = 500
# An entry at the form's limits (5,000 characters of notes, a village's households) is far
# below this; the body's limit leaves room for a full batch of ordinary entries.
MAX_ENTRY_CHARACTERS = 20_000
MAX_BODY_BYTES = 10 * 1024 * 1024

TEXT_FIELDS = ("uuid", "date", "activity", "title", "notes")
NUMBER_FIELDS = ("team", "participants", "sessions", "quantity", "funds")


class BadBatch(Exception):
    """The body is not a batch of entries; the message says why (a 400)."""


class SyncEntryForm(EntryForm):
    """The entry form as the sync reads an entry: the activity by its code, and the team
    checked whenever one is given — for a member of one team too, whose outbox may have
    been filled before a move."""

    activity = MappedChoiceField(
        label=gettext_lazy("activity"), queryset=Activity.objects.filter(is_active=True),
        to_field_name="code",
    )
    reason = None  # not sent: an entry of a locked month is filed with the sync's own reason

    def __init__(self, data, *, teams, choices=None, fields=None):
        super().__init__(data, teams=teams, choices=choices, fields=fields)
        if "team" not in self.fields and data.get("team") is not None:
            self.fields["team"] = copy.deepcopy(self.base_fields["team"])
            if choices is not None:
                self.fields["team"].choices_by_key = choices.teams
            else:
                self.fields["team"].queryset = self.team_choices()


_THREAD = threading.local()


def _batch_fields():
    """SyncEntryForm.batch_fields, copied once per thread rather than once per request:
    the batches of a thread are read one after another, each form setting its fields'
    choices to its own batch's (EntryForm), and copying the fields was a tenth of a
    one-entry post's CPU."""
    fields = getattr(_THREAD, "fields", None)
    if fields is None:
        fields = _THREAD.fields = SyncEntryForm.batch_fields()
    return fields


@dataclass
class Synced:
    """One entry of the batch, from its reading to its answer."""

    uuid: str | None
    form: SyncEntryForm | None = None
    status: str = "refused"
    entry: int | None = None
    errors: dict = field(default_factory=dict)

    def answer(self):
        return {"uuid": self.uuid, "status": self.status, "entry": self.entry, "errors": self.errors}

    def refuse(self, errors):
        self.status, self.errors = "refused", errors

    def refuse_uuid(self):
        self.refuse({"uuid": [_("This entry's id is already used by another entry; it was not saved.")]})


def _error(message, status):
    return JsonResponse({"error": str(message)}, status=status)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def read_batch(request):
    """The body's entries, each a dict; BadBatch when the body is not a batch.

    Numbers are read as Decimals: exact (funds), and a number of any size is one the
    form refuses on its field rather than one the reader cannot hold."""
    if request.content_type != "application/json":
        raise BadBatch(_("Send the entries as JSON (Content-Type: application/json)."))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BadBatch(_("The request is larger than %(megabytes)d MB: send fewer entries at a time.")
                       % {"megabytes": MAX_BODY_BYTES // (1024 * 1024)})
    try:
        document = json.loads(request.read(), parse_int=Decimal, parse_float=Decimal,
                              parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadBatch(_("The body is not valid JSON.")) from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise BadBatch(_('The body must be a JSON object with an "entries" list.'))
    if len(entries) > MAX_ENTRIES:
        raise BadBatch(_("At most %(most)d entries at a time; this request has %(count)d.")
                       % {"most": MAX_ENTRIES, "count": len(entries)})
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise BadBatch(_("Entry %(number)d is not a JSON object.") % {"number": number})
        if len(json.dumps(entry, ensure_ascii=False, default=str)) > MAX_ENTRY_CHARACTERS:
            raise BadBatch(_("Entry %(number)d is larger than %(most)d characters of JSON.")
                           % {"number": number, "most": MAX_ENTRY_CHARACTERS})
    return entries


def _cleaned(value, kinds):
    """A JSON value as a form field reads it, under teams.text's rule; ValidationError
    when it is not of one of `kinds`."""
    if not isinstance(value, kinds):
        raise ValidationError(_("Give this as text.") if kinds == (str,) else _("Give this as a number."))
    return clean_text(value) if isinstance(value, str) else str(value)


def form_data(document):
    """The entry's fields as the form reads them, and the errors of those that are not of
    their kind: ({field: value}, {field: [message]}). Other keys are left out."""
    data, errors = {}, {}
    kinds = {name: (str,) for name in TEXT_FIELDS} | {name: (str, Decimal) for name in NUMBER_FIELDS}
    for name, kind in kinds.items():
        if document.get(name) is not None:
            try:
                data[name] = _cleaned(document[name], kind)
            except ValidationError as error:
                errors[name] = error.messages
    households = document.get("households")
    if households is not None:
        try:
            if not isinstance(households, list):
                raise ValidationError(_("Give the households as a list of their ids."))
            data["households"] = [_cleaned(household, (str, Decimal)) for household in households]
        except ValidationError as error:
            errors["households"] = error.messages
    return data, errors


def _read(document, read, teams, choices=None, fields=None):
    """Read one entry: a Synced with its valid form, or refused. `read`: form_data of the
    document; `choices` and `fields`: the batch's (FormChoices, EntryForm.batch_fields),
    made once for all its entries."""
    given = document.get("uuid")
    # Echoed for the client to match; a uuid is ASCII, and other text may not even encode.
    synced = Synced(uuid=given if isinstance(given, str) and given.isascii() else None)
    if not teams:
        synced.refuse({"team": [_("Only members of a current team can log entries.")]})
        return synced
    data, errors = read
    form = SyncEntryForm(data, teams=teams, choices=choices, fields=fields)
    if form.is_valid() and not errors:
        synced.form = form
    else:  # a field of the wrong kind was left out of the form: its own message, not "required"
        synced.refuse(_form_errors(form) | errors)
    return synced


def _form_errors(form):
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def _content(*, team_id, date, activity_id, household_ids, participants, sessions, quantity,
             funds, title, notes):
    """What makes two entries the same (their uuid aside)."""
    return (team_id, date, activity_id, sorted(household_ids), participants, sessions, quantity,
            Decimal(funds), title, notes)


def _stored_households(outcomes):
    """{entry id: [household ids]} of the entries the batch found already made (replays):
    one query for all of them."""
    found = [outcome.entry.pk for outcome in outcomes
             if outcome.refused is None and not outcome.created]
    households = {pk: [] for pk in found}
    if found:
        for entry_id, household_id in EntryHousehold.objects.filter(
                entry_id__in=found).values_list("entry_id", "household_id"):
            households[entry_id].append(household_id)
    return households


def _stored_content(entry, household_ids):
    return _content(
        team_id=entry.team_id, date=entry.date, activity_id=entry.activity_id,
        household_ids=household_ids,
        participants=entry.participants, sessions=entry.sessions, quantity=entry.quantity,
        funds=entry.funds, title=entry.title, notes=entry.notes,
    )


def _sent_content(form):
    values = form.entry_values()
    return _content(
        team_id=form.chosen_team.pk, date=values["date"], activity_id=values["activity"].pk,
        household_ids=[household.pk for household in values["households"]],
        participants=values["participants"], sessions=values["sessions"],
        quantity=values["quantity"], funds=values["funds"], title=values["title"],
        notes=values["notes"],
    )


def _same_amendment(values, other):
    """Two amendments' values (amendments.proposed_values) propose the same entry."""
    return {**values, "funds": Decimal(values["funds"])} == {**other, "funds": Decimal(other["funds"])}


def _record(synced, outcome, stored_households):
    """What the services did with the entry (services.Outcome); an entry of a locked month
    is left to _amend. `stored_households`: _stored_households of the batch."""
    if outcome.refused is None:
        if outcome.created:
            synced.status, synced.entry = "created", outcome.entry.pk
        elif (_stored_content(outcome.entry, stored_households[outcome.entry.pk])
              == _sent_content(synced.form)):
            synced.status, synced.entry = "present", outcome.entry.pk
        else:
            synced.refuse_uuid()
    elif isinstance(outcome.refused, ValidationError):
        synced.form.add_rule_errors(outcome.refused)
        synced.refuse(_form_errors(synced.form))
    elif not isinstance(outcome.refused, MonthLocked):  # UuidTakenByAnotherTeam, UuidHeldByAmendment
        synced.refuse_uuid()


def _amend(synced, user):
    """File the entry of a locked month as an amendment, as the form does; a replay of the
    same entry finds it filed."""
    form = synced.form
    values = proposed_values(form.cleaned_data)
    try:
        file_amendment(team=form.chosen_team, user=user, kind=Amendment.Kind.CREATE,
                       reason=_("Synced from a phone after its month was locked."),
                       values=values, uuid=form.cleaned_data["uuid"])
    except UuidHeldByAmendment:
        synced.refuse_uuid()
        return
    except AlreadyFiled as filed:
        if not _same_amendment(filed.amendment.values, values):
            synced.refuse_uuid()
            return
    synced.status = "amendment"


@require_POST
def sync(request):
    # An API answers 401 rather than redirecting to a login page.
    if not request.user.is_authenticated:
        return _error(_("Log in first."), 401)
    try:
        documents = read_batch(request)
    except BadBatch as problem:
        return _error(problem, 400)
    teams = writable_teams_list(request.user)
    read = [form_data(document) for document in documents]
    # The batch's activities, households and teams read once: a query per entry before.
    choices = FormChoices.read(
        teams=teams,
        activity_codes=[data["activity"] for data, _errors in read if "activity" in data],
        household_ids=[household for data, _errors in read for household in data.get("households", ())],
    ) if teams else None
    fields = _batch_fields()
    batch = [_read(document, reading, teams, choices, fields) for document, reading in zip(documents, read)]
    valid = [synced for synced in batch if synced.form is not None]
    # entries_create is one transaction of its own; wrapping it in another only added a
    # savepoint and its release to every post. The entries of a locked month are filed
    # afterwards, as the form files its own, and a replay finds them filed.
    outcomes = entries_create(author=request.user, entries=[
        {"uuid": synced.form.cleaned_data["uuid"], "team": synced.form.chosen_team,
         **synced.form.entry_values()}
        for synced in valid
    ])
    stored_households = _stored_households(outcomes)
    for synced, outcome in zip(valid, outcomes):
        _record(synced, outcome, stored_households)
    locked = [synced for synced, outcome in zip(valid, outcomes)
              if isinstance(outcome.refused, MonthLocked)]
    if locked:
        with transaction.atomic():
            # In uuid order, as the entries: two batches filing the same ones never wait crosswise.
            for synced in sorted(locked, key=lambda synced: str(synced.form.cleaned_data["uuid"])):
                _amend(synced, request.user)
    return JsonResponse({"results": [synced.answer() for synced in batch]},
                        json_dumps_params={"ensure_ascii": False})
