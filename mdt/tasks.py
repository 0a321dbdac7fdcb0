"""The MDT's periodic work."""

from crontask import cron
from django.tasks import task

from mdt.services import follow_ups_send


@cron("17 * * * *")
@task
def mdt_follow_ups_send() -> int:
    """Remind case owners whose follow-up day has come; each case once."""
    return follow_ups_send()
