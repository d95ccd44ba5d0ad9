"""`manage.py seed_demo` (the default `small` scale) can run any number of times."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from care.models import Case
from config.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def test_seed_demo_twice_leaves_every_table_as_the_first_run_did(settings, role_groups):
    settings.DEBUG = True  # seed_demo refuses to create known logins otherwise
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    # `make run` prints the logins once, beside the address; seed_demo does not repeat them.
    assert DEMO_PASSWORD not in output.getvalue()
    first = row_counts()
    assert first[Case._meta.db_table] > 0
    call_command("seed_demo", stdout=io.StringIO())
    assert row_counts() == first
