"""Entries' household links get a model of their own (EntryHousehold), which protects a
visited household from deletion. The links stay in the table Django made for the field,
with its columns and unique index: only the migration state changes. Their audit copies'
model is named after the new model, and its table renamed with it (rows kept)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('teams', '0002_household_limits'),
        ('worklog', '0006_amendment_holds_its_uuid'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='EntryHousehold',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('entry', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='household_links', to='worklog.entry')),
                        ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entry_links', to='teams.household')),
                    ],
                    options={
                        'verbose_name': 'household visited by an entry',
                        'verbose_name_plural': 'households visited by entries',
                        'db_table': 'worklog_entry_households',
                        'unique_together': {('entry', 'household')},
                    },
                ),
                migrations.AlterField(
                    model_name='entry',
                    name='households',
                    field=models.ManyToManyField(blank=True, related_name='entries', through='worklog.EntryHousehold', to='teams.household', verbose_name='households'),
                ),
            ],
        ),
        migrations.RenameModel(
            old_name='HistoricalEntry_households',
            new_name='HistoricalEntryHousehold',
        ),
        migrations.AlterModelOptions(
            name='historicalentryhousehold',
            options={'verbose_name': 'HistoricalEntryHousehold'},
        ),
        # The copies of the foreign keys lose an empty db_tablespace: nothing in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='historicalentryhousehold',
                    name='entry',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='worklog.entry'),
                ),
                migrations.AlterField(
                    model_name='historicalentryhousehold',
                    name='household',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.household'),
                ),
            ],
        ),
    ]
