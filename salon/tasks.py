"""The salon's periodic work."""

from crontask import cron
from django.tasks import task

from salon.services import reminders_send


@cron("*/5 * * * *")
@task
def event_reminders_send() -> int:
    """Remind confirmed attendees of events starting within 24 hours; nobody twice."""
    return reminders_send()
