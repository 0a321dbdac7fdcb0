"""notifications/tasks.py: the work the worker does after an action."""

import pytest
from django_tasks_db.models import DBTaskResult

from notifications import tasks
from notifications.models import OutgoingEmail
from notifications.services import emails_queue

pytestmark = pytest.mark.django_db


def _queued_emails(n: int) -> list[int]:
    emails = emails_queue(
        [OutgoingEmail(to=f"reader{i}@example.com", subject="Hello", body="Hi") for i in range(n)]
    )
    return [email.pk for email in emails]


def test_a_long_list_of_emails_is_queued_again_in_batches_not_sent(settings, mailoutbox):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "push", "mail"],
        }
    }
    ids = _queued_emails(2 * tasks.EMAIL_BATCH + 5)
    DBTaskResult.objects.all().delete()

    assert tasks.emails_send.call(ids=ids) == 0

    batches = [
        row.args_kwargs["kwargs"]["ids"]
        for row in DBTaskResult.objects.order_by("enqueued_at", "pk")
    ]
    assert sorted(len(batch) for batch in batches) == [5, tasks.EMAIL_BATCH, tasks.EMAIL_BATCH]
    assert sorted(pk for batch in batches for pk in batch) == ids
    assert all(row.queue_name == "mail" for row in DBTaskResult.objects.all())
    assert mailoutbox == []


def test_every_email_of_a_long_list_goes_once(mailoutbox, django_capture_on_commit_callbacks):
    ids = _queued_emails(2 * tasks.EMAIL_BATCH + 5)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.emails_send.call(ids=ids)

    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(
        f"reader{i}@example.com" for i in range(len(ids))
    )
    assert not OutgoingEmail.objects.filter(sent_at__isnull=True).exists()
