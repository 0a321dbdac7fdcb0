"""Notification work done by the worker, after the action that caused it."""

from crontask import cron
from django.tasks import task

from core.layer import WORKER_TIMEOUT
from core.tasks import retrying
from notifications import services
from notifications.models import Notification


@task(queue_name="push", priority=10)
def notifications_push(*, ids: list[int]) -> int:
    """Push stored notifications to their recipients' open sockets.

    Not retried: a push that fails reaches the browser by catch-up, and a
    late second push could arrive after it.
    """
    notifications = Notification.objects.filter(pk__in=ids).order_by("pk")
    return len(ids) if services.push(notifications, timeout=WORKER_TIMEOUT) else 0


@task(queue_name="mail")
@retrying(on=services.MAIL_ERRORS)
def emails_send(*, ids: list[int]) -> int:
    """Send the stored e-mails that have not gone yet; retried while the mail server fails."""
    return services.emails_send(ids=ids)


@cron("*/10 * * * *")
@task(queue_name="mail")
def emails_resend_stalled() -> int:
    """Try again the e-mails whose retries stopped (a killed worker, a day-long outage)."""
    return services.emails_resend_stalled()


@cron("41 3 * * *")
@task
def emails_prune() -> int:
    """Forget e-mails sent more than a month ago."""
    return services.emails_prune()
