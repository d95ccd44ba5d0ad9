"""The Italian text search configuration of `config.textsearch` (#24), on PostgreSQL only:
`italian` with `unaccent` before the stemmer. SQLite has no text search configurations (the
fallback is described in `config/textsearch.py`)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION presidio_it (COPY = italian);
ALTER TEXT SEARCH CONFIGURATION presidio_it
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, italian_stem;
"""
DROP = "DROP TEXT SEARCH CONFIGURATION IF EXISTS presidio_it;"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("config", "0007_admins_see_the_admin_pages")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
