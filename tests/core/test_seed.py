"""seed_demo: weeks of activity that read like a real forum's, the same after a second run."""

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from core.demo import salon as demo_salon
from core.demo.timeline import Timeline, _stamped
from core.management.commands.seed_demo import REVIEW_DELAY, Command
from forum.models import Answer, PostState, Question, Reply, Thanks
from moderation.models import Case
from notifications.models import Notification
from salon.models import RSVP, Event, LiveQuestion

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(settings):
    # As `make run` seeds: a new member's first post waits for the demo moderator.
    settings.SHUKANG_HOLD_FIRST_POSTS = 1

    def run():
        call_command("seed_demo", stdout=io.StringIO())

    return run


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values_list("pk", *fields))
        for model, fields, _demo_rows in _stamped()
    }


def test_questions_are_asked_on_different_days_over_weeks(seed):
    seed()
    asked = sorted(Question.objects.values_list("created_at", flat=True))
    days = {timezone.localtime(moment).date() for moment in asked}
    assert len(days) >= 6
    assert asked[-1] - asked[0] >= timedelta(weeks=3)
    assert asked[-1] < timezone.now()


def test_the_dashboard_sees_each_demo_question_when_it_was_asked(seed):
    from duty.models import Routing

    seed()
    routings = Routing.objects.select_related("question").exclude(group=None)
    assert routings
    for routing in routings:
        # Published when asked (or when the moderator let it through), answered after.
        assert routing.published_at >= routing.question.created_at
        assert routing.published_at - routing.question.created_at <= timedelta(days=2)
        if routing.first_answer_at is not None:
            # (a salon question reaches the forum with its answer)
            assert routing.first_answer_at >= routing.published_at


def test_answers_replies_and_thanks_come_after_what_they_follow(seed):
    seed()
    # A salon's answered questions reach the forum together with their answers.
    from_salon = LiveQuestion.objects.values("forum_question")
    for answer in Answer.objects.exclude(question__in=from_salon).select_related("question"):
        assert answer.created_at - answer.question.created_at >= timedelta(hours=1)
    for reply in Reply.objects.select_related("question", "answer"):
        parent = reply.answer or reply.question
        assert reply.created_at - parent.created_at >= timedelta(hours=1)
    for thanks in Thanks.objects.select_related("answer"):
        assert thanks.created_at > thanks.answer.created_at
    for question in Question.objects.all():
        published = [question.created_at] + [
            post.created_at
            for model in (Answer, Reply)
            for post in model.objects.filter(question=question, state=PostState.PUBLISHED)
        ]
        # The latest post, or its approval when it was held.
        assert max(published) <= question.last_activity_at <= max(published) + REVIEW_DELAY
    # The demo moderator took a while over each new member's first post.
    held = Case.objects.filter(kind=Case.Kind.HELD)
    assert held.exists()
    for case in held:
        assert case.resolved_at - case.created_at == REVIEW_DELAY
        assert case.target.created_at == case.created_at


def test_notifications_arrive_in_time_order_and_people_join_before_they_post(seed):
    seed()
    moments = list(Notification.objects.order_by("pk").values_list("created_at", flat=True))
    assert len(set(moments)) > len(moments) // 2
    assert moments == sorted(moments)
    assert moments[-1] <= timezone.now()
    for user in User.objects.all():
        first = Question.objects.filter(author=user).order_by("created_at").first()
        if first is not None:
            assert user.date_joined < first.created_at - timedelta(days=1)


def test_salon_demo_people_sign_up_before_and_ask_during_their_events(seed):
    seed()
    for event in Event.objects.all():
        for rsvp in RSVP.objects.filter(event=event):
            assert event.created_at < rsvp.created_at < min(event.starts_at, timezone.now())
        for question in LiveQuestion.objects.filter(event=event):
            assert event.starts_at < question.created_at < event.ends_at
            assert question.created_at < timezone.now()
            if question.answered_at:
                assert question.created_at < question.answered_at < event.ends_at


def test_seed_demo_twice_changes_nothing(seed):
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


@pytest.mark.parametrize("clock", [time(0, 1), time(12, 0), time(23, 59)])
def test_no_demo_step_lies_in_the_future_whenever_the_seed_runs(clock):
    # Timeline.add refuses a step after "now": planning on an empty site at
    # any time of day must plan every step without a refusal.
    now = timezone.make_aware(datetime.combine(timezone.localdate(), clock))
    timeline = Timeline(now)
    command = Command()
    assert command.plan_accounts(timeline) == 7
    assert command.plan_forum(timeline) > 0
    assert demo_salon.plan(timeline) > 0
    assert all(when <= now for when, _order, _step in timeline.steps)


def test_a_demo_seeded_before_the_chinese_event_titles_gets_no_second_copies(seed):
    seed()
    renamed = [item for item in demo_salon.EVENTS if "was" in item]
    for item in renamed:
        Event.objects.filter(title=item["title"]).update(title=item["was"])
    count = Event.objects.count()

    seed()

    assert Event.objects.count() == count
