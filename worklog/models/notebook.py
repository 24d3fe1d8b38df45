"""The notebook: activities (kinds of work), indicators (what dashboards add up), entries
and the households they visited.

The tallies (worklog.tallies) follow every entry in the transaction of its change, so
entries change only through the notebook's services (worklog.services), which save them
one by one. Queryset updates of what the tallies count, deletions, and changes of the
household links outside the services are refused (ChangeRefused) before they write.
"""

import uuid as uuid_module
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from teams.guards import ChangeRefused, GuardedQuerySet
from teams.models import BilingualName, Household, Team, Village


class Measure(models.TextChoices):
    """What an indicator adds up over the entries of its activities (DESIGN §5)."""

    ENTRIES = "entries", _("number of entries")
    QUANTITY = "quantity", _("sum of quantity")
    PARTICIPANTS = "participants", _("sum of participants")
    SESSIONS = "sessions", _("sum of sessions")
    FUNDS = "funds", _("sum of funds")
    HOUSEHOLD_VISITS = "household_visits", _("household visits (repeats count)")
    HOUSEHOLDS = "households", _("distinct households")


class Unit(models.TextChoices):
    """Units of the reports; the stored value is the Chinese unit itself."""

    YUAN = "元", _("yuan")
    ITEMS = "个", _("items")
    CASES = "件", _("cases")
    HOUSEHOLDS = "户", _("households")
    HOUSEHOLD_VISITS = "户次", _("household visits")
    PERSON_TIMES = "人次", _("person-times")
    SESSIONS = "场次", _("sessions")
    PEOPLE = "人", _("people")


class Activity(BilingualName, models.Model):
    """A kind of notebook entry, and which measures its form asks for."""

    class Category(models.TextChoices):
        VISIT = "visit", _("visit")
        REPAIR = "repair", _("repair and practical help")
        TRAINING = "training", _("training")
        PROJECT = "project", _("project")
        ECONOMY = "economy", _("economy and jobs")
        ORGANISATION = "organisation", _("grassroots organisation")
        OTHER = "other", _("other")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    uses_households = models.BooleanField(_("asks for households"), default=False)
    uses_participants = models.BooleanField(_("asks for participants"), default=False)
    uses_sessions = models.BooleanField(_("asks for sessions"), default=False)
    uses_quantity = models.BooleanField(_("asks for quantity"), default=False)
    uses_funds = models.BooleanField(_("asks for funds"), default=False)
    quantity_label = models.CharField(
        _("what the quantity counts"), max_length=50, blank=True,
        help_text=_("For example: people placed in jobs, cooperatives founded."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["order", "code"]

    def __str__(self):
        return self.label

    def measures_used(self):
        return [
            name
            for name in ("households", "participants", "sessions", "quantity", "funds")
            if getattr(self, f"uses_{name}")
        ]


class IndicatorQuerySet(GuardedQuerySet):
    followed_fields = ("measure",)
    refusal = _("Change what an indicator measures by saving it, so that the households "
                "reached are recounted; a queryset update would leave them behind.")


class Indicator(models.Model):
    """A figure the dashboards show: a measure added up over one or more activities."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label_zh = models.CharField(_("label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    activities = models.ManyToManyField(
        Activity, verbose_name=_("activities"), related_name="indicators"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    phrase_zh = models.CharField(
        _("phrase"),
        max_length=200,
        blank=True,
        help_text=_("How the year's report writes this figure; {value} stands for it, "
                    "e.g. 投入资金{value}."),
    )
    phrase_en = models.CharField(
        _("English phrase"), max_length=200, blank=True,
        help_text=_("e.g. invested {value}."),
    )

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "code"]

    def __str__(self):
        return self.label

    @property
    def label(self):
        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label_zh


_links_open = ContextVar("entry_household_links_open", default=False)
LINKS_THROUGH_SERVICES = _("Change an entry's households through the notebook's services "
                           "(worklog.services.entry_update), which keep the totals exact.")


@contextmanager
def household_links_changing():
    """Let the notebook's services change entries' households; nothing else may."""
    token = _links_open.set(True)
    try:
        yield
    finally:
        _links_open.reset(token)


def _ensure_links_open():
    if not _links_open.get():
        raise ChangeRefused(LINKS_THROUGH_SERVICES)


class EntryHouseholdQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _ensure_links_open()
        return super().update(**kwargs)

    def delete(self):
        _ensure_links_open()
        return super().delete()


class EntryHousehold(models.Model):
    """A household an entry visited. The household is protected: deleting a household that
    entries name would take its visits out of the notebook and out of the totals.

    Entries are linked in bulk when created (worklog.services, the import), their tallies
    with them; any later change goes through the services. Otherwise saving or deleting a
    link refuses, and so do the related managers' add(), remove(), set() and clear(), from
    either side (`_refuse_link_changes`). Declared before Entry: django-simple-history
    copies this model for Entry's audit trail as soon as Entry is declared.
    """

    entry = models.ForeignKey("Entry", on_delete=models.CASCADE, related_name="household_links")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="entry_links")

    objects = EntryHouseholdQuerySet.as_manager()

    class Meta:
        # The table and unique index Django made for `Entry.households` before this model.
        db_table = "worklog_entry_households"
        unique_together = [("entry", "household")]
        verbose_name = _("household visited by an entry")
        verbose_name_plural = _("households visited by entries")

    def __str__(self):
        return f"{self.entry} · {self.household}"

    def save(self, *args, **kwargs):
        _ensure_links_open()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _ensure_links_open()
        return super().delete(*args, **kwargs)


def _refuse_link_changes(action, **kwargs):
    if action.startswith("pre_"):
        _ensure_links_open()


m2m_changed.connect(_refuse_link_changes, sender=EntryHousehold,
                    dispatch_uid="worklog.refuse_link_changes")


# What the tallies of an entry depend on (worklog.tallies.EntrySnapshot, with its households).
TALLIED_FIELDS = (
    "date", "team", "village", "activity", "participants", "sessions", "quantity", "funds",
    "deleted_at",
)
NEVER_DELETED = _("Entries are never deleted: soft-delete them through the notebook's "
                  "services (worklog.services.entry_soft_delete), which keep the totals exact.")


class EntryQuerySet(GuardedQuerySet):
    followed_fields = TALLIED_FIELDS
    refusal = _("Change an entry's date, team, village, activity, figures or deletion through "
                "the notebook's services (worklog.services), which keep the totals exact; a "
                "queryset update would leave them behind.")

    def live(self):
        """Entries that count: soft-deleted ones never do."""
        return self.filter(deleted_at__isnull=True)

    def delete(self):
        raise ChangeRefused(NEVER_DELETED)


class Entry(models.Model):
    """One line of a team's notebook."""

    uuid = models.UUIDField(
        _("idempotency key"), unique=True, default=uuid_module.uuid4, editable=False
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="entries"
    )
    village = models.ForeignKey(
        Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="entries"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
    )
    date = models.DateField(_("date"))
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="entries"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    households = models.ManyToManyField(
        Household, verbose_name=_("households"), blank=True, related_name="entries",
        through=EntryHousehold,
    )
    participants = models.PositiveIntegerField(_("participants"), default=0)
    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    funds = models.DecimalField(
        _("funds (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords(m2m_fields=[households])

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["team", "-date"], name="entry_team_date"),
            models.Index(fields=["date", "activity"], name="entry_date_activity"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(participants__gte=0)
                & Q(sessions__gte=0)
                & Q(quantity__gte=0),
                name="entry_counts_not_negative",
            ),
            models.CheckConstraint(condition=Q(funds__gte=0), name="entry_funds_not_negative"),
        ]

    def __str__(self):
        return self.title or f"{self.activity} {self.date:%Y-%m-%d}"

    def delete(self, *args, **kwargs):
        raise ChangeRefused(NEVER_DELETED)
