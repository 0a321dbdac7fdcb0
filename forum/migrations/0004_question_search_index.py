"""A GIN index for full-text search, on PostgreSQL only.

The expression is exactly the one forum.search builds, so the planner uses
the index; SQLite has no tsvector and searches with its fallback instead.
"""

from django.db import migrations

INDEX = "forum_question_search_gin"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON forum_question "
    "USING GIN (to_tsvector('simple'::regconfig, COALESCE(search_document, '')))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("forum", "0003_posts")]

    operations = [migrations.RunPython(create, drop)]
