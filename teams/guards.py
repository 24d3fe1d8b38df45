"""Writes refused because others follow what they would change.

A tree's paths follow a node's parent and slug; the notebook's totals follow a team's
organisation, a village's area, an entry's figures and households. Saving the object (or,
for entries, the notebook's services) carries those along. A queryset update writes the
columns and nothing else, so it is refused, with a message saying which way to take.
"""

from django.db import models


class ChangeRefused(Exception):
    """A write refused before it touched the database; the message says which way to take."""


class GuardedQuerySet(models.QuerySet):
    """A queryset whose update() refuses `followed_fields`, raising ChangeRefused(`refusal`).

    bulk_update() and related managers (`organisation.teams.update(...)`) go through
    update() too; Model.save() does not, so saving an object stays the way to change them.
    """

    followed_fields = ()
    refusal = ""

    def update(self, **kwargs):
        fields = [self.model._meta.get_field(name) for name in self.followed_fields]
        if {name for field in fields for name in (field.name, field.attname)} & kwargs.keys():
            raise ChangeRefused(self.refusal)
        return super().update(**kwargs)
