"""The roster's periodic work."""

from crontask import cron
from django.tasks import task

from duty.services import reminders_and_escalations_send


@cron("*/5 * * * *")
@task
def duty_reminders_send() -> dict[str, int]:
    """Remind on-duty physicians at half the target, escalate at the target; each once."""
    return reminders_and_escalations_send()
