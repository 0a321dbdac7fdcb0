"""A waiting question is reminded at half the target and escalated at the target, each once.

The clock is moved by putting a question's publication (``Routing.published_at``)
into the past, or by handing the service the moment to act at. The last tests
run the task on the real worker of django-tasks-db: ``manage.py db_worker`` as
a separate process on PostgreSQL, and the same worker in this process on
SQLite (whose test database lives in this process's memory).
"""

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from duty.models import Holiday, Routing, Shift, TumourGroup
from duty.services import department_day, reminders_and_escalations_send
from duty.tasks import duty_reminders_send
from forum import services as forum
from forum.models import Category, PostState, Question
from notifications.models import Notification, OutgoingEmail, Verb
from tests.worker import run_due_tasks, worker_env

pytestmark = pytest.mark.django_db

HALF = timedelta(hours=24)
TARGET = timedelta(hours=48)


@pytest.fixture
def group(category, lead):
    group = TumourGroup.objects.get(category=category)
    group.lead = lead
    group.save(update_fields=["lead"])
    return group


@pytest.fixture
def lead(doctor_factory, category):
    return doctor_factory(name="Dr. Lead", specialties=[category])


@pytest.fixture
def on_duty(doctor_factory, category, group):
    physician = doctor_factory(name="Dr. Zhao", specialties=[category])
    Shift.objects.create(group=group, day=department_day(), physician=physician)
    return physician


@pytest.fixture
def colleague(doctor_factory, category):
    return doctor_factory(name="Dr. Qian", specialties=[category])


@pytest.fixture
def question(question_factory, patient, category, group, on_duty, colleague, moderator):
    return question_factory(author=patient, category=category, title="Blood in the stool again")


def routing_of(question) -> Routing:
    return Routing.objects.get(question=question)


def run(question, after: timedelta) -> dict[str, int]:
    """Run the reminders as the scheduler would, ``after`` the question's publication."""
    return reminders_and_escalations_send(now=routing_of(question).published_at + after)


def told(verb) -> list[int]:
    return sorted(Notification.objects.filter(verb=verb).values_list("recipient_id", flat=True))


def ids(*people) -> list[int]:
    return sorted(person.pk for person in people)


def test_nothing_is_sent_before_half_the_target(question):
    assert run(question, HALF - timedelta(seconds=1)) == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == told(Verb.DUTY_ESCALATED) == []


def test_the_physician_on_duty_is_reminded_once_at_half_the_target(question, on_duty):
    assert run(question, HALF) == {"reminded": 1, "escalated": 0}
    for later in (HALF, HALF + timedelta(minutes=5), TARGET - timedelta(seconds=1)):
        assert run(question, later) == {"reminded": 0, "escalated": 0}

    assert told(Verb.DUTY_REMINDER) == ids(on_duty)
    assert told(Verb.DUTY_ESCALATED) == []
    (email,) = OutgoingEmail.objects.filter(verb=Verb.DUTY_REMINDER)
    assert email.to == on_duty.email
    routing = routing_of(question)
    assert routing.reminded_at == routing.published_at + HALF and routing.escalated_at is None


def test_the_lead_and_the_moderators_hear_once_at_the_target(
    question, on_duty, lead, moderator, user_factory
):
    from accounts.models import User

    second_moderator = user_factory(role=User.Role.MODERATOR, name="Moderator Wu")
    run(question, HALF)
    assert run(question, TARGET) == {"reminded": 0, "escalated": 1}
    for later in (TARGET, TARGET + timedelta(minutes=5), TARGET * 10):
        assert run(question, later) == {"reminded": 0, "escalated": 0}

    assert told(Verb.DUTY_ESCALATED) == ids(lead, moderator, second_moderator)
    assert told(Verb.DUTY_REMINDER) == ids(on_duty)
    bell = Notification.objects.filter(verb=Verb.DUTY_ESCALATED).first()
    assert bell.url == question.get_absolute_url() and bell.data["hours"] == 48
    assert OutgoingEmail.objects.filter(verb=Verb.DUTY_ESCALATED).count() == 3


def test_a_question_first_seen_past_its_target_is_escalated_without_a_late_reminder(
    question, lead, moderator
):
    assert run(question, TARGET + timedelta(hours=3)) == {"reminded": 0, "escalated": 1}
    assert run(question, TARGET * 2) == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == []
    assert told(Verb.DUTY_ESCALATED) == ids(lead, moderator)


def test_a_groups_own_target_sets_the_times(question_factory, category, group, on_duty, lead):
    group.target_hours = 12
    group.save(update_fields=["target_hours"])
    question = question_factory(category=category)
    assert run(question, timedelta(hours=6) - timedelta(seconds=1))["reminded"] == 0
    assert run(question, timedelta(hours=6))["reminded"] == 1
    assert run(question, timedelta(hours=12))["escalated"] == 1
    assert routing_of(question).target_hours == 12


@pytest.mark.parametrize("answered_after", [timedelta(hours=1), HALF + timedelta(hours=1)])
def test_nothing_more_is_sent_after_the_first_physician_answer(
    question, on_duty, colleague, patient, answered_after
):
    if answered_after > HALF:
        run(question, HALF)
    forum.reply_create(question=question, author=patient, body="Still waiting, any news?")
    forum.answer_create(question=question, author=colleague, body="Please see your GP this week.")
    routing = routing_of(question)
    assert routing.first_answer_by == colleague
    reminders = told(Verb.DUTY_REMINDER)

    for later in (HALF, TARGET, TARGET * 3):
        assert run(question, later) == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == reminders
    assert told(Verb.DUTY_ESCALATED) == []


def test_a_reply_by_the_asker_does_not_stop_the_clock(question, patient, on_duty):
    forum.reply_create(question=question, author=patient, body="Some more detail about it.")
    assert run(question, HALF) == {"reminded": 1, "escalated": 0}


def test_with_nobody_on_duty_the_whole_specialty_is_reminded(
    question, on_duty, colleague, lead, category
):
    # The day the reminder falls on is a holiday, and the shift that took the question gone.
    Shift.objects.all().delete()
    Routing.objects.filter(question=question).update(on_duty=None)
    Holiday.objects.create(day=department_day(routing_of(question).published_at + HALF))
    run(question, HALF)
    assert told(Verb.DUTY_REMINDER) == ids(on_duty, colleague, lead)


@pytest.mark.parametrize("gone", ["deleted", "hidden", "locked", "outside the groups"])
def test_questions_no_longer_waiting_are_left_alone(question, moderator, gone):
    if gone == "deleted":
        forum.post_delete(post=question, user=question.author)
    elif gone == "hidden":
        Question.objects.filter(pk=question.pk).update(state=PostState.HIDDEN)
    elif gone == "locked":  # a moderator closed it to answers
        Question.objects.filter(pk=question.pk).update(is_locked=True)
    else:
        Routing.objects.filter(question=question).update(group=None)
    for later in (HALF, TARGET):
        assert run(question, later) == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == told(Verb.DUTY_ESCALATED) == []


def test_a_question_outside_the_tumour_groups_is_never_reminded(question_factory, moderator):
    general = Category.objects.get(slug="living-with-cancer")
    question = question_factory(category=general)
    assert run(question, TARGET * 2) == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_ESCALATED) == []


def test_the_task_runs_on_the_real_clock(question, on_duty):
    Routing.objects.filter(question=question).update(
        published_at=timezone.now() - HALF - timedelta(minutes=1)
    )
    result = duty_reminders_send.enqueue()
    assert result.return_value == {"reminded": 1, "escalated": 0}
    assert duty_reminders_send.enqueue().return_value == {"reminded": 0, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == ids(on_duty)


def test_a_question_held_for_days_starts_its_clock_when_a_moderator_publishes_it(
    settings, patient, moderator, category, group, on_duty
):
    from django.contrib.contenttypes.models import ContentType

    from moderation.models import Case
    from moderation.services import case_approve

    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    question = forum.question_create(
        author=patient,
        title="Can I eat normally after a stoma?",
        body="My father has a new stoma after colorectal surgery; what can he eat?",
        category=category,
    )
    # Three days in the moderators' queue.
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - TARGET * 1.5)
    assert duty_reminders_send.enqueue().return_value == {"reminded": 0, "escalated": 0}
    case = Case.objects.get(
        content_type=ContentType.objects.get_for_model(Question), object_id=question.pk
    )
    case_approve(case_id=case.pk, moderator=moderator)

    assert duty_reminders_send.enqueue().return_value == {"reminded": 0, "escalated": 0}
    assert run(question, HALF) == {"reminded": 1, "escalated": 0}
    assert told(Verb.DUTY_REMINDER) == ids(on_duty)


def test_a_passed_question_escalates_to_the_lead_of_the_group_it_was_passed_to(
    question, on_duty, lead, moderator, doctor_factory
):
    from duty.services import question_pass

    gist = TumourGroup.objects.get(category__slug="gist")
    gist.lead = doctor_factory(name="Dr. Gist Lead", specialties=[gist.category])
    gist.save(update_fields=["lead"])
    question_pass(question=question, by=on_duty, to_group=gist, note="A stromal tumour.")
    run(question, TARGET)
    assert told(Verb.DUTY_ESCALATED) == ids(gist.lead, moderator)


def test_the_scheduler_runs_the_reminders_every_five_minutes():
    from crontask import scheduler

    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert "minute='*/5'" in str(jobs[duty_reminders_send.name].trigger)


# The real worker, with the clock moved by a day and then by two


@pytest.fixture
def queue(settings):
    """The production backend: tasks are rows, run only by a worker."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "push", "mail"],
        }
    }


@pytest.fixture
def tumour_groups(transactional_db):
    """Transactional tests flush the data migrations' rows; put the tumour groups back."""
    from django.apps import apps

    importlib.import_module("duty.migrations.0002_seed_tumour_groups").seed(apps, None)


def _worker_env() -> dict:
    # E-mails are "sent" into the worker's memory, not printed.
    return worker_env(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")


def run_worker(*, workers: int = 1) -> None:
    """Run every task that is due, as ``manage.py db_worker --batch`` does, then return."""
    run_due_tasks(_worker_env(), workers=workers)


def reminder_results() -> list[dict]:
    return [
        result.return_value
        for result in DBTaskResult.objects.filter(
            task_path=duty_reminders_send.module_path, status="SUCCESSFUL"
        ).order_by("finished_at")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_worker_reminds_and_escalates_once_each_as_the_clock_moves(
    queue, tumour_groups, question_factory, doctor_factory, user_factory, category
):
    from accounts.models import User

    group = TumourGroup.objects.get(category=category)
    lead = doctor_factory(name="Dr. Lead", specialties=[category])
    group.lead = lead
    group.save(update_fields=["lead"])
    on_duty = doctor_factory(name="Dr. Zhao", specialties=[category])
    Shift.objects.create(group=group, day=department_day(), physician=on_duty)
    moderator = user_factory(role=User.Role.MODERATOR, name="Moderator Lin")
    question = question_factory(category=category, title="Blood in the stool again")
    run_worker()  # the question's own e-mails go; nothing is due yet
    assert told(Verb.DUTY_QUESTION) == ids(on_duty)

    def publish_ago(hours: float) -> None:
        Routing.objects.filter(question=question).update(
            published_at=timezone.now() - timedelta(hours=hours)
        )

    # A day on: two overlapping runs (as a slow run and the next tick), two workers.
    publish_ago(24.5)
    duty_reminders_send.enqueue()
    duty_reminders_send.enqueue()
    run_worker(workers=2)
    assert told(Verb.DUTY_REMINDER) == ids(on_duty)
    assert told(Verb.DUTY_ESCALATED) == []

    # Two days on: the target has passed.
    publish_ago(48.5)
    duty_reminders_send.enqueue()
    run_worker()
    duty_reminders_send.enqueue()
    run_worker()

    assert told(Verb.DUTY_REMINDER) == ids(on_duty)
    assert told(Verb.DUTY_ESCALATED) == ids(lead, moderator)
    assert sorted(map(tuple, (r.values() for r in reminder_results()))) == sorted(
        [(1, 0), (0, 0), (0, 1), (0, 0)]
    )
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    # Each e-mail went once, by the worker.
    emails = OutgoingEmail.objects.filter(verb__in=[Verb.DUTY_REMINDER, Verb.DUTY_ESCALATED])
    assert sorted(emails.values_list("recipient_id", flat=True)) == ids(on_duty, lead, moderator)
    assert all(email.sent_at is not None and email.attempts == 1 for email in emails)
