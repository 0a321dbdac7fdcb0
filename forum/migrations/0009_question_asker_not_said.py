"""Let a question say nothing about whom it concerns.

The ask form used to preselect "Myself", so a question about a father went
out as "Asking for: Myself". "Not said" is now the default; questions asked
before keep the value they were stored with.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forum", "0008_post_redacted_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="question",
            name="asker",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not said"),
                    ("self", "Myself"),
                    ("family", "A family member"),
                    ("friend", "A friend"),
                ],
                default="",
                max_length=10,
                verbose_name="who is asking",
            ),
        ),
    ]
