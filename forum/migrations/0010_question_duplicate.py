"""Let a physician point a question to an answered one that already covers it.

The duplicate keeps its answers and replies and stays readable; the columns
are empty for every question asked before.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('forum', '0009_question_asker_not_said'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='question',
            name='duplicate_marked_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='marked as a duplicate'),
        ),
        migrations.AddField(
            model_name='question',
            name='duplicate_marked_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='marked as a duplicate by'),
        ),
        migrations.AddField(
            model_name='question',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='duplicates', to='forum.question', verbose_name='duplicate of'),
        ),
        migrations.AddConstraint(
            model_name='question',
            constraint=models.CheckConstraint(condition=models.Q(('duplicate_of', models.F('pk')), _negated=True), name='question_not_duplicate_of_itself'),
        ),
    ]
