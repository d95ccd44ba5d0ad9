"""The search document of articles on PostgreSQL only (#24): a generated column over the
title (weight A), the text (B) and the category tags (C) in the `presidio_it` configuration,
with a GIN index. SQLite searches without it (care.article_search)."""

from django.db import migrations

from config.textsearch import document

CREATE = f"""
ALTER TABLE care_article ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS ({document(("title", "A"), ("body", "B"), ("tags", "C"))}) STORED;
CREATE INDEX article_search_document ON care_article USING GIN (search_document);
"""
DROP = """
DROP INDEX IF EXISTS article_search_document;
ALTER TABLE care_article DROP COLUMN IF EXISTS search_document;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0014_knowledge_base"),
        ("config", "0008_text_search"),
    ]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
