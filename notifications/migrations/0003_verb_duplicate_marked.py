"""Tell an asker their question was linked to an answered one."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_outgoing_email'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='verb',
            field=models.CharField(choices=[('answer', 'A physician answered a question of yours or one you follow'), ('reply', 'Someone replied to your post'), ('accepted', 'Your answer was accepted'), ('thanked', 'Your answer was thanked'), ('post_approved', 'Your post was approved'), ('post_rejected', 'Your post was not approved'), ('specialty_question', 'A new question in your specialty'), ('queue_item', 'A new item in the moderation queue'), ('rsvp_confirmed', 'Your salon place is confirmed'), ('waitlist_promoted', 'You moved up from the waitlist'), ('event_reminder', 'A salon event you attend is tomorrow'), ('event_changed', 'A salon event you attend has changed'), ('event_cancelled', 'A salon event you attend was cancelled'), ('application_decided', 'Your physician application was decided'), ('duplicate_marked', 'A physician linked your question to an answered one')], max_length=32),
        ),
        migrations.AlterField(
            model_name='outgoingemail',
            name='verb',
            field=models.CharField(blank=True, choices=[('answer', 'A physician answered a question of yours or one you follow'), ('reply', 'Someone replied to your post'), ('accepted', 'Your answer was accepted'), ('thanked', 'Your answer was thanked'), ('post_approved', 'Your post was approved'), ('post_rejected', 'Your post was not approved'), ('specialty_question', 'A new question in your specialty'), ('queue_item', 'A new item in the moderation queue'), ('rsvp_confirmed', 'Your salon place is confirmed'), ('waitlist_promoted', 'You moved up from the waitlist'), ('event_reminder', 'A salon event you attend is tomorrow'), ('event_changed', 'A salon event you attend has changed'), ('event_cancelled', 'A salon event you attend was cancelled'), ('application_decided', 'Your physician application was decided'), ('duplicate_marked', 'A physician linked your question to an answered one')], max_length=32),
        ),
        migrations.AlterField(
            model_name='preference',
            name='verb',
            field=models.CharField(choices=[('answer', 'A physician answered a question of yours or one you follow'), ('reply', 'Someone replied to your post'), ('accepted', 'Your answer was accepted'), ('thanked', 'Your answer was thanked'), ('post_approved', 'Your post was approved'), ('post_rejected', 'Your post was not approved'), ('specialty_question', 'A new question in your specialty'), ('queue_item', 'A new item in the moderation queue'), ('rsvp_confirmed', 'Your salon place is confirmed'), ('waitlist_promoted', 'You moved up from the waitlist'), ('event_reminder', 'A salon event you attend is tomorrow'), ('event_changed', 'A salon event you attend has changed'), ('event_cancelled', 'A salon event you attend was cancelled'), ('application_decided', 'Your physician application was decided'), ('duplicate_marked', 'A physician linked your question to an answered one')], max_length=32),
        ),
    ]
