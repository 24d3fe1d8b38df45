"""Amendments for a new entry hold its uuid in a unique column (issue 11, point 6)."""

import uuid

from django.db import migrations, models


def hold_filed_uuids(apps, schema_editor):
    """Move the uuid of each new entry's amendment from its values into the column. Should
    two amendments carry one uuid (possible before it was held), the later gets a fresh
    one: no entry was made with it, so nothing refers to it."""
    Amendment = apps.get_model("worklog", "Amendment")
    seen = set()
    for amendment in Amendment.objects.filter(kind="create").order_by("pk"):
        try:
            held = uuid.UUID(str(amendment.values.get("uuid")))
        except ValueError:
            held = uuid.uuid4()
        if held in seen:
            held = uuid.uuid4()
        seen.add(held)
        amendment.uuid = held
        amendment.save(update_fields=["uuid"])


class Migration(migrations.Migration):

    dependencies = [
        ("worklog", "0005_area_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="amendment",
            name="uuid",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True,
                                   verbose_name="uuid of the new entry"),
        ),
        migrations.RunPython(hold_filed_uuids, migrations.RunPython.noop),
    ]
