"""Search in both languages, ranked over all matches.

Adds the boost search ranks by (answered, accepted, thanked; duplicates
last), on PostgreSQL a partial index of the public questions in that order
so a search walks the best ones first, and indexes every question again:
English words as stems, glossary terms as one token in both languages,
category and tag names, and on PostgreSQL a vector that weighs the title
most. The same code indexes new posts (forum.search.index_fields);
``manage.py search_reindex`` does this again after the glossary changes.
"""

from django.db import migrations, models

PUBLIC = "WHERE state = 'published' AND deleted_at IS NULL"
BEST_INDEX = "question_public_best"


def reindex(apps, schema_editor):
    from forum import search

    search.reindex(
        apps.get_model("forum", "Question"),
        apps.get_model("forum", "Answer"),
        using=schema_editor.connection.alias,
    )


def index_forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {BEST_INDEX} ON forum_question "
            f"(search_boost DESC, last_activity_at DESC, id DESC) {PUBLIC}"
        )


def index_backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BEST_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("forum", "0010_question_duplicate")]

    operations = [
        migrations.AddField(
            model_name="question",
            name="search_boost",
            field=models.SmallIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(index_forwards, index_backwards),
        migrations.RunPython(reindex, migrations.RunPython.noop),
    ]
