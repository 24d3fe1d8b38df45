"""AreaTally and AreaReach, the areas' roll-ups, filled from the existing tallies."""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


SUMS = "entries, participants, sessions, quantity, funds, household_visits"

FILL_SUMS = f"""
INSERT INTO worklog_areatally (year, month, area_id, activity_id, {SUMS})
SELECT tally.year, tally.month, village.area_id, tally.activity_id,
       SUM(tally.entries), SUM(tally.participants), SUM(tally.sessions), SUM(tally.quantity),
       SUM(tally.funds), SUM(tally.household_visits)
FROM worklog_tally tally JOIN teams_village village ON village.id = tally.village_id
GROUP BY tally.year, tally.month, village.area_id, tally.activity_id
"""

FILL_REACH = """
WITH reached AS MATERIALIZED (
    SELECT ht.year, ht.month, ht.household_id, ht.activity_id, village.area_id
    FROM worklog_householdtally ht JOIN teams_village village ON village.id = ht.village_id
    WHERE ht.visits > 0 AND ht.activity_id IN (
        SELECT ia.activity_id FROM worklog_indicator_activities ia
        JOIN worklog_indicator i ON i.id = ia.indicator_id WHERE i.measure = 'households')
)
INSERT INTO worklog_areareach (year, month, area_id, activity_id, households)
SELECT reached.year, {month}, ancestor.id, reached.activity_id, COUNT(DISTINCT reached.household_id)
FROM reached
JOIN teams_area area ON area.id = reached.area_id
JOIN teams_area ancestor ON substr(area.path, 1, length(ancestor.path)) = ancestor.path
GROUP BY reached.year, {group}ancestor.id, reached.activity_id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('teams', '0001_initial'),
        ('worklog', '0004_organisation_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='AreaReach',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('month', models.PositiveSmallIntegerField()),
                ('households', models.BigIntegerField(default=0)),
                ('activity', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='worklog.activity')),
                ('area', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='teams.area')),
            ],
            options={
                'verbose_name': 'households reached in an area',
                'verbose_name_plural': 'households reached in areas',
                'constraints': [models.UniqueConstraint(fields=('year', 'month', 'area', 'activity'), name='one_area_reach_per_key')],
            },
        ),
        migrations.CreateModel(
            name='AreaTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entries', models.BigIntegerField(default=0)),
                ('participants', models.BigIntegerField(default=0)),
                ('sessions', models.BigIntegerField(default=0)),
                ('quantity', models.BigIntegerField(default=0)),
                ('funds', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18)),
                ('household_visits', models.BigIntegerField(default=0)),
                ('year', models.PositiveSmallIntegerField()),
                ('month', models.PositiveSmallIntegerField()),
                ('activity', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='worklog.activity')),
                ('area', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='teams.area')),
            ],
            options={
                'verbose_name': 'area tally',
                'verbose_name_plural': 'area tallies',
                'constraints': [models.UniqueConstraint(fields=('year', 'month', 'area', 'activity'), name='one_area_tally_per_key')],
            },
        ),
        migrations.RunSQL(FILL_SUMS, migrations.RunSQL.noop),
        migrations.RunSQL(FILL_REACH.format(month="reached.month", group="reached.month, "), migrations.RunSQL.noop),
        migrations.RunSQL(FILL_REACH.format(month="0", group=""), migrations.RunSQL.noop),
    ]
