"""forum/tasks.py: the work the worker does after a forum action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from forum import events, tasks
from forum import services as forum
from forum.models import PostState
from notifications.models import Notification, OutgoingEmail, Verb

pytestmark = pytest.mark.django_db


@pytest.fixture
def popular_question(question_factory, patient, user_factory, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "push", "mail"],
        }
    }
    question = question_factory(author=patient)
    for _ in range(events.FOLLOWERS_IN_REQUEST + 1):
        forum.question_follow(question=question, user=user_factory())
    return question


def test_a_popular_questions_followers_are_told_by_the_worker(popular_question, doctor):
    DBTaskResult.objects.all().delete()

    answer = forum.answer_create(
        question=popular_question, author=doctor, body="Rest, hydrate, walk a little."
    )

    assert not Notification.objects.exists() and not OutgoingEmail.objects.exists()
    (queued,) = DBTaskResult.objects.all()
    assert queued.task_path == tasks.answer_followers_notify.module_path
    assert tasks.answer_followers_notify.call(answer_id=answer.pk) == (
        events.FOLLOWERS_IN_REQUEST + 2
    )
    told = Notification.objects.filter(verb=Verb.ANSWER, url=answer.get_absolute_url())
    assert told.count() == events.FOLLOWERS_IN_REQUEST + 2  # the followers and the asker


def test_telling_the_followers_twice_tells_nobody_twice(popular_question, doctor):
    answer = forum.answer_create(
        question=popular_question, author=doctor, body="Rest, hydrate, walk a little."
    )
    first = tasks.answer_followers_notify.call(answer_id=answer.pk)

    assert tasks.answer_followers_notify.call(answer_id=answer.pk) == 0
    assert Notification.objects.filter(verb=Verb.ANSWER).count() == first
    assert OutgoingEmail.objects.filter(verb=Verb.ANSWER).count() == first


def test_an_answer_withdrawn_before_the_worker_runs_is_announced_to_nobody(
    popular_question, doctor
):
    answer = forum.answer_create(
        question=popular_question, author=doctor, body="Rest, hydrate, walk a little."
    )
    forum.post_withdraw(post=answer, state=PostState.HIDDEN)

    assert tasks.answer_followers_notify.call(answer_id=answer.pk) == 0
    assert not Notification.objects.exists()


def test_the_request_writes_one_row_for_a_popular_question(popular_question, doctor):
    with CaptureQueriesContext(connection) as queries:
        forum.answer_create(
            question=popular_question, author=doctor, body="Rest, hydrate, walk a little."
        )
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert not any("notifications_" in sql for sql in inserts)
