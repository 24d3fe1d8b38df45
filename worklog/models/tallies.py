"""The tallies: running sums of live entries per (year, month, team, village, activity),
per household, and rolled up per organisation and per area (worklog.tallies keeps them)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from teams.models import Area, Household, Organisation, Team, Village
from worklog.models.notebook import Activity


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
        # A dashboard reads a node's rows of two years. No sums INCLUDEd: an index holding
        # them would make every roll-up upsert (each post) a non-HOT update.
        indexes = [
            models.Index(fields=["organisation", "year"], name="org_tally_node_year"),
        ]


class AreaTally(RollupTally):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("area tally")
        verbose_name_plural = _("area tallies")
        constraints = [
            models.UniqueConstraint(fields=["year", "month", "area", "activity"], name="one_area_tally_per_key"),
        ]
        # A dashboard reads a node's rows of two years. No sums INCLUDEd: an index holding
        # them would make every roll-up upsert (each post) a non-HOT update.
        indexes = [
            models.Index(fields=["area", "year"], name="area_tally_node_year"),
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


