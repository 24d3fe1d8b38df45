"""Who works where: organisations and areas (trees), villages, teams, memberships,
households and coordinators' scopes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Concat, Length, Substr
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from teams.guards import GuardedQuerySet


class BilingualName:
    """`label`: the name in the active language (the Chinese name is the reference)."""

    @property
    def label(self):
        if getattr(self, "name_en", "") and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class TreeNodeQuerySet(GuardedQuerySet):
    followed_fields = ("parent", "slug", "path", "depth")
    refusal = _("Move or rename an organisation or an area by saving it, so that its "
                "subtree's paths and totals follow; a queryset update would leave them behind.")

    def rewrite_paths(self, old_path, new_path):
        """Give these nodes (the descendants of a node that moved or was renamed, as
        TreeNode.save() finds them) the node's new path in place of its old one. Past the
        refusal above: the save calling this is what carries the totals along."""
        return models.QuerySet.update(
            self,
            path=Concat(models.Value(new_path), Substr("path", len(old_path) + 1)),
            depth=models.F("depth") + (new_path.count("/") - old_path.count("/")),
        )


class TreeNode(BilingualName, models.Model):
    """A node of a tree with a stored materialised path of slugs ("xinjiang/shawan/").

    A subtree is `path__startswith=node.path`: one indexed range scan, no walking
    the tree row by row. Moving a node or renaming its slug rewrites the paths of its
    descendants in one UPDATE.
    """

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=600, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)

    objects = TreeNodeQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["path"]

    def __str__(self):
        return self.label

    def computed_path(self):
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.slug}/"

    def clean(self):
        super().clean()
        if self.parent_id and self.pk:
            if self.parent_id == self.pk or self.parent.path.startswith(self._stored_path()):
                raise ValidationError({"parent": _("A node cannot be placed under itself.")})

    def _stored_path(self):
        return type(self).objects.filter(pk=self.pk).values_list("path", flat=True).first() or ""

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_path = self._stored_path() if self.pk else ""
            self.path = self.computed_path()
            self.depth = self.path.count("/") - 1
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                descendants = type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk)
                descendants.rewrite_paths(old_path, self.path)


class Organisation(TreeNode):
    """A dispatching body (派出单位): a division and its departments or regiments."""

    class Meta(TreeNode.Meta):
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")


class Area(TreeNode):
    """Administrative geography: region → prefecture → county → township."""

    class Kind(models.TextChoices):
        REGION = "region", _("region")
        PREFECTURE = "prefecture", _("prefecture")
        COUNTY = "county", _("county")
        TOWNSHIP = "township", _("township")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(
        _("statistical division code"),
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^\d{12}$", _("The code has exactly 12 digits."))],
        help_text=_("Optional 12-digit code of the national statistical division list."),
    )

    class Meta(TreeNode.Meta):
        verbose_name = _("area")
        verbose_name_plural = _("areas")


class VillageQuerySet(GuardedQuerySet):
    followed_fields = ("area",)
    refusal = _("Move a village to another area by saving the village, so that its totals "
                "move along; a queryset update would leave them behind.")


class Village(BilingualName, models.Model):
    """A place a team is posted to: a village, a company, a brigade or a community."""

    class Kind(models.TextChoices):
        VILLAGE = "village", _("village")
        COMPANY = "company", _("company")
        BRIGADE = "brigade", _("brigade")
        COMMUNITY = "community", _("community")

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VILLAGE)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="villages"
    )

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["name"]

    def __str__(self):
        return self.label


class TeamQuerySet(GuardedQuerySet):
    followed_fields = ("organisation",)
    refusal = _("Move a team to another organisation by saving the team, so that its totals "
                "move along; a queryset update would leave them behind.")

    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on), starts_on__lte=on)


class Team(BilingualName, models.Model):
    """One deployment of a work team to a village. A new deployment is a new Team."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="teams",
    )
    village = models.ForeignKey(
        Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="teams"
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="teams",
        verbose_name=_("members"),
    )
    history = HistoricalRecords()

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="team_ends_after_start",
                violation_error_message=_("A deployment cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.label

    def is_deployed_on(self, day):
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Membership(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("leader")
        MEMBER = "member", _("member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_user_team"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
                violation_error_message=_("A member cannot leave before joining."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.team} ({self.get_role_display()})"


class HouseholdTag(BilingualName, models.Model):
    """A small admin-defined label, e.g. poverty-registered (建档立卡)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("household tag")
        verbose_name_plural = _("household tags")
        ordering = ["name"]

    def __str__(self):
        return self.label


# What a household may hold: the form, the admin and the import all read these (through the
# fields' validators and max lengths), and the database checks the ranges.
HOUSEHOLD_SIZE_MAX = 100
HOUSEHOLD_PHONE_MAX_LENGTH = 30
HOUSEHOLD_NOTES_MAX_LENGTH = 5000


class HouseholdQuerySet(models.QuerySet):
    def by_house_number(self, *first):
        """Ordered by house number as people count: "2" before "10", "12" before "112"
        (shorter numbers first, then as text), after the fields `first` (the village's name,
        say), so that lists, pickers and selects read alike."""
        return self.annotate(house_number_length=Length("house_number")).order_by(
            *first, "house_number_length", "house_number"
        )


class Household(models.Model):
    """A household of a village, with what serving it needs and nothing more.

    Deliberately no fields for ethnicity, religion, beliefs or political attitudes.
    """

    village = models.ForeignKey(
        Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="households"
    )
    house_number = models.CharField(_("house number"), max_length=20)
    head_name = models.CharField(_("head of household"), max_length=100)
    size = models.PositiveSmallIntegerField(
        _("people"), default=1, validators=[MaxValueValidator(HOUSEHOLD_SIZE_MAX)]
    )
    phone = models.CharField(_("phone"), max_length=HOUSEHOLD_PHONE_MAX_LENGTH, blank=True)
    # A TextField's max_length only reaches the form; the validator makes full_clean() check it.
    notes = models.TextField(
        _("notes"),
        max_length=HOUSEHOLD_NOTES_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(HOUSEHOLD_NOTES_MAX_LENGTH)],
    )
    tags = models.ManyToManyField(
        HouseholdTag, verbose_name=_("tags"), blank=True, related_name="households"
    )
    history = HistoricalRecords(m2m_fields=[tags])

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["village", "house_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "house_number"],
                name="one_house_number_per_village",
                violation_error_message=_("This village already has a household with this number."),
            ),
            models.CheckConstraint(
                condition=Q(size__gte=0, size__lte=HOUSEHOLD_SIZE_MAX),
                name="household_size_in_range",
                violation_error_message=format_lazy(
                    _("A household has at most {max} people."), max=HOUSEHOLD_SIZE_MAX
                ),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), HOUSEHOLD_NOTES_MAX_LENGTH),
                name="household_notes_within_limit",
                violation_error_message=format_lazy(
                    _("Notes hold at most {max} characters."), max=HOUSEHOLD_NOTES_MAX_LENGTH
                ),
            ),
        ]

    def __str__(self):
        return f"{self.house_number} {self.head_name}"


class CoordinatorScope(models.Model):
    """Makes a user a coordinator of an organisation subtree or of an area subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="coordinator_scopes",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="coordinator_scopes",
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="coordinator_scopes",
    )

    class Meta:
        verbose_name = _("coordinator scope")
        verbose_name_plural = _("coordinator scopes")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(area__isnull=False),
                name="coordinator_scope_names_a_subtree",
                violation_error_message=_("Choose an organisation or an area."),
            ),
            # Two conditional constraints, because NULLs are distinct in a plain one.
            models.UniqueConstraint(
                fields=["user", "organisation"],
                condition=Q(area__isnull=True),
                name="one_scope_row_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["user", "area"],
                condition=Q(organisation__isnull=True),
                name="one_scope_row_per_area",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.organisation or self.area}"
