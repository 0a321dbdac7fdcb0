"""On PostgreSQL: index the questions anyone may read in each order they are listed.

The list indexes of 0003 start with (state, deleted_at). SQLite walks them
in order for `state = 'published' AND deleted_at IS NULL`, but PostgreSQL
cannot take an order from an index after a column tested with IS NULL, so
it sorted every published question for each list page and each search
(about 100 ms on 100,000 questions). These partial indexes hold the public
rows only, in each list order, so a page or the newest matches of a search
are read from the front of one. SQLite cannot use them (its planner matches
a partial index only against literal constants, and Django binds
parameters), so they are made on PostgreSQL alone.
"""

from django.db import migrations

PUBLIC = "WHERE state = 'published' AND deleted_at IS NULL"
INDEXES = {
    "question_public_newest": "created_at DESC, id DESC",
    "question_public_active": "last_activity_at DESC, id DESC",
    "question_public_thanked": "thanks_count DESC, created_at DESC, id DESC",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON forum_question ({columns}) {PUBLIC}"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("forum", "0006_question_search_vector_index")]

    operations = [migrations.RunPython(forwards, backwards)]
