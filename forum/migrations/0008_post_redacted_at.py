"""Tell a moderator's redaction from the author's own edit.

Redactions used to set ``edited_at`` like an author's edit. Every edit and
redaction left a revision by whoever made it, so posts with a revision by
someone other than their author were redacted then; their ``edited_at``
goes back to the author's own last edit, if any.
"""

from collections import defaultdict

from django.db import migrations, models


def mark_redactions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("forum", "Revision")
    for model_name in ("question", "answer", "reply"):
        content_type = ContentType.objects.filter(app_label="forum", model=model_name).first()
        if content_type is None:
            continue
        edits = defaultdict(list)
        for object_id, editor_id, created_at in Revision.objects.filter(
            content_type=content_type
        ).values_list("object_id", "editor_id", "created_at"):
            edits[object_id].append((editor_id, created_at))
        model = apps.get_model("forum", model_name)
        for post in model.objects.filter(pk__in=list(edits)).only("pk", "author_id"):
            by_others = [at for editor, at in edits[post.pk] if editor != post.author_id]
            if by_others:
                own = [at for editor, at in edits[post.pk] if editor == post.author_id]
                model.objects.filter(pk=post.pk).update(
                    redacted_at=max(by_others), edited_at=max(own) if own else None
                )


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("forum", "0007_question_public_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="redacted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="edited by a moderator"),
        ),
        migrations.AddField(
            model_name="question",
            name="redacted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="edited by a moderator"),
        ),
        migrations.AddField(
            model_name="reply",
            name="redacted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="edited by a moderator"),
        ),
        migrations.RunPython(mark_redactions, migrations.RunPython.noop),
    ]
