"""The task queue on a bad day: the real database backend, the real worker, a real SMTP sink.

Nothing here is mocked. The e-mail journeys run the worker of
django-tasks-db: as a separate ``manage.py db_worker`` process on
PostgreSQL, and in this process on SQLite (whose test database lives in
this process's memory).
"""

import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from forum import services as forum
from notifications import services
from notifications.models import Notification, OutgoingEmail, Verb
from notifications.tasks import emails_send, notifications_push
from tests.worker import run_due_tasks, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """An SMTP server on a spare port that keeps what it is sent; it can be stopped and started."""

    def __init__(self):
        self.port = _free_port()
        self.received: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
        self.controller = None

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(address for to, _content in self.received for address in to)


@pytest.fixture
def sink(settings):
    sink = Sink()
    sink.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": sink.port, "use_tls": False, "timeout": 5},
        }
    }
    yield sink
    if sink.controller is not None:
        sink.stop()


@pytest.fixture
def queue(settings):
    """The production backend: tasks are rows, run only by a worker."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "push", "mail"],
        }
    }
    settings.SHUKANG_TASK_RETRY = {"base": 1, "cap": 1, "attempts": 5}


def _worker_env(sink: Sink | None) -> dict:
    env = worker_env(
        SHUKANG_TASK_RETRY_BASE="1", SHUKANG_TASK_RETRY_CAP="1", SHUKANG_TASK_RETRY_ATTEMPTS="5"
    )
    if sink is not None:
        env |= {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "EMAIL_USE_TLS": "false",
        }
    return env


def run_worker(sink: Sink | None = None, *, workers: int = 1) -> None:
    """Run every task that is due, as ``manage.py db_worker --batch`` does, then return."""
    run_due_tasks(_worker_env(sink), workers=workers)


def _answer(question_factory, patient, doctor):
    question = question_factory(author=patient)
    return forum.answer_create(
        question=question, author=doctor, body="Rest, hydrate and tell your oncologist."
    )


def test_rolled_back_action_queues_nothing(queue, question_factory, patient, doctor):
    question = question_factory(author=patient)
    # What the question itself sent (its duty or specialty e-mails) is not the answer's.
    OutgoingEmail.objects.all().delete()
    DBTaskResult.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        forum.answer_create(question=question, author=doctor, body="An answer that never was.")
        assert OutgoingEmail.objects.exists() and DBTaskResult.objects.exists()
        raise RuntimeError("the request failed after the answer was written")
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_answer_email_waits_for_the_worker_and_goes_once(
    queue, sink, question_factory, patient, doctor
):
    _answer(question_factory, patient, doctor)
    (email,) = OutgoingEmail.objects.all()
    assert email.to == patient.email and not email.is_sent
    assert sink.recipients() == []  # the answering request sent nothing itself

    run_worker(sink)
    run_worker(sink)

    assert sink.recipients() == [patient.email]
    email.refresh_from_db()
    assert email.is_sent and email.attempts == 1


def test_mail_server_down_then_back_every_email_arrives_once(
    queue, sink, question_factory, patient, doctor, user_factory
):
    from forum.models import Category

    followers = [user_factory() for _ in range(3)]
    # A topic without a duty roster: only the answer's e-mails are in play.
    general = Category.objects.get(slug="living-with-cancer")
    question = question_factory(author=patient, category=general)
    for follower in followers:
        forum.question_follow(question=question, user=follower)
    sink.stop()
    forum.answer_create(question=question, author=doctor, body="Rest, hydrate, walk a little.")

    run_worker(sink)

    unsent = OutgoingEmail.objects.filter(sent_at__isnull=True)
    assert unsent.count() == 4
    assert all(email.attempts == 1 and email.last_error for email in unsent)
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "attempt 2 runs after" in failed.traceback
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2 and retry.run_after > failed.enqueued_at

    sink.start()
    time.sleep(1.2)  # the retry's backoff in this test is one second
    run_worker(sink)
    run_worker(sink)

    expected = sorted([patient.email, *(follower.email for follower in followers)])
    assert sink.recipients() == expected
    assert not OutgoingEmail.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.postgres
def test_two_workers_send_each_email_once(queue, sink, question_factory, patient, doctor):
    people = [
        OutgoingEmail(to=f"reader{number}@example.com", subject="Hello", body="Once only.")
        for number in range(40)
    ]
    with transaction.atomic():
        created = OutgoingEmail.objects.bulk_create(people)
        # Four tasks over the same e-mails, as overlapping retries could make.
        for _ in range(4):
            emails_send.enqueue(ids=[email.pk for email in created])

    run_worker(sink, workers=2)

    assert sink.recipients() == sorted(email.to for email in people)


def test_stalled_email_is_tried_again_once(queue, sink, question_factory, patient, doctor):
    _answer(question_factory, patient, doctor)
    # The worker that took the task was killed: the task row stays RUNNING.
    DBTaskResult.objects.update(status="RUNNING")
    OutgoingEmail.objects.update(updated_at=timezone.now() - timedelta(hours=2))

    assert services.emails_resend_stalled() == 1
    assert services.emails_resend_stalled() == 0  # touched: not queued twice
    run_worker(sink)

    assert sink.recipients() == [patient.email]


def test_many_followers_are_pushed_by_the_worker_not_the_request(
    queue, question_factory, patient, doctor, user_factory
):
    question = question_factory(author=patient)
    count = services.DIRECT_PUSH_MAX + 5
    for _ in range(count):
        forum.question_follow(question=question, user=user_factory())
    DBTaskResult.objects.all().delete()

    forum.answer_create(question=question, author=doctor, body="Rest, hydrate, walk a little.")

    (push,) = DBTaskResult.objects.filter(queue_name="push")
    stored = Notification.objects.filter(verb=Verb.ANSWER).count()
    assert stored == count + 1 and len(push.args_kwargs["kwargs"]["ids"]) == stored
    run_worker()
    push.refresh_from_db()
    assert push.status == "SUCCESSFUL" and push.return_value == stored


def test_a_few_recipients_are_pushed_from_the_request(queue, question_factory, patient, doctor):
    _answer(question_factory, patient, doctor)
    assert not DBTaskResult.objects.filter(task_path=notifications_push.module_path).exists()


def test_sent_emails_are_forgotten_after_a_month(queue):
    old = OutgoingEmail.objects.create(to="a@example.com", subject="s", body="b")
    recent = OutgoingEmail.objects.create(to="b@example.com", subject="s", body="b")
    unsent = OutgoingEmail.objects.create(to="c@example.com", subject="s", body="b")
    OutgoingEmail.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=31))
    OutgoingEmail.objects.filter(pk=recent.pk).update(sent_at=timezone.now())

    assert services.emails_prune() == 1
    assert set(OutgoingEmail.objects.values_list("pk", flat=True)) == {recent.pk, unsent.pk}


def test_the_scheduler_knows_every_periodic_task():
    from crontask import scheduler

    import core.tasks  # noqa: F401 - importing a tasks module registers its schedules
    import notifications.tasks  # noqa: F401
    import salon.tasks  # noqa: F401

    names = {job.name for job in scheduler.get_jobs()}
    assert {
        "event_reminders_send",
        "task_results_prune",
        "emails_resend_stalled",
        "emails_prune",
    } <= names


def test_staff_see_failed_tasks_with_the_error_and_the_next_run_in_the_admin(
    queue, sink, question_factory, patient, doctor, admin_client
):
    sink.stop()
    _answer(question_factory, patient, doctor)
    run_worker(sink)

    tasks = admin_client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED")
    page = tasks.content.decode()
    assert tasks.status_code == 200 and "emails_send" in page
    assert "ConnectionRefusedError" in page and "attempt 2 runs after" in page
    retry = DBTaskResult.objects.get(status="READY")
    detail = admin_client.get(f"/admin/django_tasks_database/dbtaskresult/{retry.pk}/change/")
    assert detail.status_code == 200 and str(retry.run_after.year) in detail.content.decode()

    emails = admin_client.get("/admin/notifications/outgoingemail/?sent_at__isnull=True")
    assert emails.status_code == 200 and patient.email in emails.content.decode()
    assert "ConnectionRefusedError" in emails.content.decode()


def test_finished_task_rows_are_pruned_after_a_fortnight_failed_ones_after_a_month(queue):
    from core.tasks import task_results_prune

    def finished(status, days):
        result = emails_send.enqueue(ids=[])
        DBTaskResult.objects.filter(pk=result.id).update(
            status=status, finished_at=timezone.now() - timedelta(days=days)
        )
        return result.id

    old_success = finished("SUCCESSFUL", 15)
    recent_success = finished("SUCCESSFUL", 3)
    old_failure = finished("FAILED", 31)
    recent_failure = finished("FAILED", 15)
    waiting = emails_send.enqueue(ids=[]).id

    task_results_prune.call()

    kept = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert kept == {str(pk) for pk in (recent_success, recent_failure, waiting)}
    assert not {str(old_success), str(old_failure)} & kept
