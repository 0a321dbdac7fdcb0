"""Notification work done by the worker, after the action that caused it."""

from crontask import cron
from django.db import transaction
from django.tasks import task

from core.layer import WORKER_TIMEOUT
from core.tasks import retrying, task_enqueue
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


# E-mails one task sends. The worker runs one task at a time, so a push queued
# while a popular question's thousand e-mails go out would wait for all of
# them (tens of seconds on a busy 2-core machine); in tasks of this many it
# waits for one batch, and several workers share them (docs/BENCHMARKS.md).
EMAIL_BATCH = 20


@task(queue_name="mail")
@retrying(on=services.MAIL_ERRORS)
def emails_send(*, ids: list[int]) -> int:
    """Send the stored e-mails that have not gone yet; retried while the mail server fails.

    A list longer than ``EMAIL_BATCH`` is not sent here but queued again in
    batches, so the request that queued it writes one task whatever its length.
    """
    if len(ids) > EMAIL_BATCH:
        with transaction.atomic():
            for start in range(0, len(ids), EMAIL_BATCH):
                task_enqueue(emails_send, ids=ids[start : start + EMAIL_BATCH])
        return 0
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
