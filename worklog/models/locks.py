"""Reported months: the locks a coordinator puts on a month, the figures as they were
reported, and the amendments that correct a locked month."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from teams.models import Household, Team, Village
from worklog.models.notebook import Activity, Entry
from worklog.models.tallies import HouseholdTallyRow, TallyRow


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
        verbose_name = _("locked team month")
        verbose_name_plural = _("locked team months")
        constraints = [
            models.UniqueConstraint(fields=["team", "year", "month"], name="one_lock_per_team_month"),
        ]

    def __str__(self):
        return _("%(team)s, %(year)s-%(month)02d, locked") % {
            "team": self.team, "year": self.year, "month": self.month}


def reported_of(model):
    """What a reported row names stays while the row does: deleting it would change
    figures already handed in. (A live tally's zero row may go with a household no entry
    visits any more; a reported row names one an amendment has since unlinked.)"""
    return models.ForeignKey(model, on_delete=models.PROTECT, related_name="+")


def as_reported(row):
    return _("%(team)s, %(year)s-%(month)02d, as reported") % {
        "team": row.team, "year": row.year, "month": row.month}


class ReportedTally(TallyRow):
    """A tally row as it stood when its month was locked ("as reported")."""

    team = reported_of(Team)
    village = reported_of(Village)
    activity = reported_of(Activity)
    lock = models.ForeignKey(MonthLock, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("reported tally")
        verbose_name_plural = _("reported tallies")

    __str__ = as_reported


class ReportedHouseholdTally(HouseholdTallyRow):
    """A household tally row as it stood when its month was locked."""

    household = reported_of(Household)
    team = reported_of(Team)
    village = reported_of(Village)
    activity = reported_of(Activity)
    lock = models.ForeignKey(MonthLock, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("reported household tally")
        verbose_name_plural = _("reported household tallies")

    __str__ = as_reported


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
