"""Single-column indexes that a composite index starting with the same column already serves:
they only cost every write and every plan of the biggest tables.

Only the indexes go. Django's AlterField(db_index=False) would also drop each foreign key and
add it back, re-validating it with a scan of the million-row tables under an exclusive lock;
here the field changes are state-only, and on PostgreSQL the indexes are dropped
CONCURRENTLY (hence a non-atomic migration), so a running site keeps working.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, index as Django named it, its columns)
INDEXES = [
    ("care_caseevent", "care_caseevent_case_id_ffdd3bec", "case_id"),  # event_case_time
    ("care_slaalert", "care_slaalert_case_id_5f85cad3", "case_id"),  # unique case/target/level
    ("care_case", "care_case_assignee_id_40316511", "assignee_id"),  # case_assignee_status
    ("care_case", "care_case_client_id_fda20152", "client_id"),  # case_client_status
    ("care_case", "care_case_end_user_id_3e3c7eb6", "end_user_id"),  # case_end_user_status
    ("care_case", "care_case_queue_code_9aaf8dd2", "queue_code"),  # case_queue_code_order
]
POSTGRESQL_ONLY = [
    ("care_case", "care_case_queue_code_9aaf8dd2_like", "queue_code varchar_pattern_ops"),
]


def _indexes(schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    return postgresql, INDEXES + (POSTGRESQL_ONLY if postgresql else [])


def drop_indexes(apps, schema_editor):
    postgresql, indexes = _indexes(schema_editor)
    concurrently = " CONCURRENTLY" if postgresql else ""
    for _table, name, _columns in indexes:
        schema_editor.execute(f'DROP INDEX{concurrently} IF EXISTS "{name}"')


def create_indexes(apps, schema_editor):
    postgresql, indexes = _indexes(schema_editor)
    concurrently = " CONCURRENTLY" if postgresql else ""
    for table, name, columns in indexes:
        schema_editor.execute(
            f'CREATE INDEX{concurrently} IF NOT EXISTS "{name}" ON "{table}" ({columns})'
        )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("care", "0006_retention"),
        ("contracts", "0003_contract_retention_months"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="care.case",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="slaalert",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sla_alerts",
                        to="care.case",
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assigned_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="client",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="contracts.client",
                        verbose_name="client",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="end_user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="contracts.enduser",
                        verbose_name="end user",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="queue_code",
                    field=models.CharField(blank=True, max_length=50, verbose_name="queue"),
                ),
            ],
        ),
    ]
