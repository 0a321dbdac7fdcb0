"""On PostgreSQL: read the dashboard's weeks of routings from one narrow index.

Every figure of duty.figures counts routed questions in a span of
``published_at`` (the last weeks, last month). With only the
(group, published_at) index PostgreSQL scanned the whole routing table for
each of those queries, a year of rows to count eight weeks of them. This
partial index holds the routed rows (group set) in ``published_at`` order
and carries the columns the figures read, so each span is an index-only
range scan whatever the history behind it. PostgreSQL only: SQLite has no
INCLUDE, and on the small databases it serves the plain table is enough.
"""

from django.db import migrations

NAME = "routing_counted_published"
INDEX = (
    f"CREATE INDEX IF NOT EXISTS {NAME} ON duty_routing (published_at) "
    "INCLUDE (id, group_id, question_id, target_hours, first_answer_at) "
    "WHERE group_id IS NOT NULL"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("duty", "0002_seed_tumour_groups")]

    operations = [migrations.RunPython(forwards, backwards)]
