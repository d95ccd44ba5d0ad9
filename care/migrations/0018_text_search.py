"""Full-text search over cases and their notes (#24), on PostgreSQL only: a stored search
document per row, kept current by PostgreSQL itself (a generated column), and a GIN index on
it. Case: subject (weight A) and description (B); note: body (C). `config.textsearch`
describes the configuration and the SQLite fallback (nothing here on SQLite).

Adding a stored generated column rewrites the table: on the national data set (1,000,000
cases, 3,000,000 notes) this migration holds the tables for about a minute; run it in a
maintenance window."""

from django.db import migrations

# Written out (not built by config.textsearch.document) so that this migration never changes.
CASE = (
    "setweight(to_tsvector('presidio_it'::regconfig, coalesce(subject, '')), 'A') || "
    "setweight(to_tsvector('presidio_it'::regconfig, coalesce(description, '')), 'B')"
)
NOTE = "setweight(to_tsvector('presidio_it'::regconfig, coalesce(body, '')), 'C')"
CREATE = f"""
ALTER TABLE care_case ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({CASE}) STORED;
CREATE INDEX care_case_search ON care_case USING gin (search_document);
ALTER TABLE care_note ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({NOTE}) STORED;
CREATE INDEX care_note_search ON care_note USING gin (search_document);
"""
DROP = """
ALTER TABLE care_note DROP COLUMN IF EXISTS search_document;
ALTER TABLE care_case DROP COLUMN IF EXISTS search_document;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("care", "0017_saved_replies"), ("config", "0008_text_search")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
