"""The notebook: activities (kinds of work), indicators (what dashboards add up) and entries."""

import uuid as uuid_module
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from teams.models import Area, BilingualName, Household, Organisation, Team, Village


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


class EntryQuerySet(models.QuerySet):
    def live(self):
        """Entries that count: soft-deleted ones never do."""
        return self.filter(deleted_at__isnull=True)


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
        Household, verbose_name=_("households"), blank=True, related_name="entries"
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


class TallySums(models.Model):
    """The additive sums a tally keeps of live entries."""

    entries = models.BigIntegerField(default=0)
    participants = models.BigIntegerField(default=0)
    sessions = models.BigIntegerField(default=0)
    quantity = models.BigIntegerField(default=0)
    funds = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    household_visits = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class TallyRow(TallySums):
    """Sums of live entries for one (year, month, team, village, activity)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class HouseholdTallyRow(models.Model):
    """How often one household was linked for one (year, month, team, village, activity)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    visits = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class Tally(TallyRow):
    """Running sums of the live entries of one (year, month, team, village, activity).

    Kept exact in the same transaction as every entry change (worklog.tallies), so that
    totals read a few thousand tally rows instead of millions of entries.
    """


    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "team", "village", "activity"], name="one_tally_per_key"
            ),
        ]
        # Covering: a scope's year is read per team from the index alone (at 10 M
        # entries the org dashboard's sums went from 945 ms to 79 ms in bench/findings.md).
        indexes = [
            models.Index(
                fields=["year", "team"], name="tally_year_team",
                include=["month", "activity", "entries", "participants", "sessions",
                         "quantity", "funds", "household_visits"],
            ),
        ]


class RollupTally(TallySums):
    """The sums of `Tally` added up over one node of a tree (an organisation's own teams,
    or an area's own villages, not its sub-nodes') for one (year, month, activity).

    Kept in the same transaction as `Tally` (worklog.tallies.add_to_tallies), so the
    dashboard of an organisation or area reads a few rows per sub-node, month and activity
    whatever the number of teams, villages and entries.
    """

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class OrgTally(RollupTally):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("organisation tally")
        verbose_name_plural = _("organisation tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "organisation", "activity"], name="one_org_tally_per_key"
            ),
        ]


class AreaTally(RollupTally):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("area tally")
        verbose_name_plural = _("area tallies")
        constraints = [
            models.UniqueConstraint(fields=["year", "month", "area", "activity"], name="one_area_tally_per_key"),
        ]


class RollupReach(models.Model):
    """How many distinct households the teams of a node and its sub-nodes (organisations)
    or the node's villages and its sub-nodes' (areas) reached with one activity in a month
    (`month` 1–12) or in the whole year (`month` 0).

    Distinct households do not add up over months or sub-nodes, so each ancestor keeps its
    own count; it is kept for the activities that a distinct-households indicator counts,
    in the transaction of every change (worklog.tallies).
    """

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    households = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class OrgReach(RollupReach):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("households reached")
        verbose_name_plural = _("households reached")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "organisation", "activity"], name="one_org_reach_per_key"
            ),
        ]


class AreaReach(RollupReach):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("households reached in an area")
        verbose_name_plural = _("households reached in areas")
        constraints = [
            models.UniqueConstraint(fields=["year", "month", "area", "activity"], name="one_area_reach_per_key"),
        ]


class HouseholdTally(HouseholdTallyRow):
    """How often one household was linked by live entries of one month, team and activity.

    The exact path for distinct households: a count of distinct households is a count
    over these rows, which grow with households, not with entries.
    """


    class Meta:
        verbose_name = _("household tally")
        verbose_name_plural = _("household tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "household", "team", "village", "activity"],
                name="one_household_tally_per_key",
            ),
        ]
        # Covering: a scope's distinct households of a year are an index-only scan.
        indexes = [
            models.Index(
                fields=["year", "activity", "team"], name="household_tally_year_act_team",
                include=["household", "visits"],
            ),
        ]


class MonthLock(models.Model):
    """A coordinator's "reported": a month closed for an organisation subtree.

    Locking copies the subtree's tallies of that month into `ReportedTally` rows (what
    was reported) and marks each team-month locked; after that, entries of those months
    change only through accepted amendments, and the live tallies are "as corrected".
    """

    organisation = models.ForeignKey(
        "teams.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT,
        related_name="month_locks",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("locked by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    locked_at = models.DateTimeField(_("locked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("locked month")
        verbose_name_plural = _("locked months")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "month"], name="one_lock_per_org_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="lock_month_is_a_month"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.year}-{self.month:02d}"


class LockedTeamMonth(models.Model):
    """One team's month closed by a lock: the one row an entry change checks."""

    lock = models.ForeignKey(MonthLock, on_delete=models.CASCADE, related_name="team_months")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "year", "month"], name="one_lock_per_team_month"),
        ]


class ReportedTally(TallyRow):
    """A tally row as it stood when its month was locked ("as reported")."""

    lock = models.ForeignKey(MonthLock, on_delete=models.CASCADE, related_name="+")


class ReportedHouseholdTally(HouseholdTallyRow):
    """A household tally row as it stood when its month was locked."""

    lock = models.ForeignKey(MonthLock, on_delete=models.CASCADE, related_name="+")


class Amendment(models.Model):
    """A correction to a locked month, filed by the team, decided by a coordinator."""

    class Kind(models.TextChoices):
        CREATE = "create", _("new entry")
        CHANGE = "change", _("change of an entry")
        DELETE = "delete", _("deletion of an entry")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="amendments")
    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="amendments",
    )
    entry_version = models.PositiveIntegerField(_("entry version"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # A new entry's uuid (its form's), held from the filing on: no entry is logged with it
    # but the one this amendment creates when accepted.
    uuid = models.UUIDField(_("uuid of the new entry"), null=True, blank=True, unique=True, editable=False)
    values = models.JSONField(_("proposed values"), default=dict, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["-filed_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.team} · {self.get_status_display()}"
