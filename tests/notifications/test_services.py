import asyncio
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from forum import services as forum
from notifications import payloads, services
from notifications.models import Notification, OutgoingEmail, Preference, Verb

pytestmark = pytest.mark.django_db


def drain(channel_layer, channel):
    """Every message waiting on a channel, without blocking."""

    async def take():
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(channel_layer.receive(channel), timeout=0.2))
            except TimeoutError:
                return received

    return async_to_sync(take)()


@pytest.fixture
def listening():
    """A channel subscribed to a user's group, as an open socket would be."""
    layer = get_channel_layer()

    def listen(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(payloads.user_group(user.pk), channel)
        return lambda: drain(layer, channel)

    return listen


def test_answer_notifies_the_asker_after_commit(
    question_factory, patient, doctor, listening, django_capture_on_commit_callbacks
):
    question = question_factory(author=patient)
    inbox = listening(patient)
    with django_capture_on_commit_callbacks(execute=True):
        answer = forum.answer_create(
            question=question, author=doctor, body="Rest, hydrate and walk a little."
        )
    stored = Notification.objects.get(recipient=patient)
    assert stored.verb == Verb.ANSWER and stored.url == answer.get_absolute_url()
    assert stored.data == {"actor": doctor.name, "title": question.title}
    (event,) = inbox()
    assert event["type"] == payloads.CREATED and event["id"] == stored.pk and event["unread"] == 1
    message = payloads.notification_payload(event)
    assert json.loads(json.dumps(message)) == message
    assert message["text"] == f"{doctor.name} answered “{question.title}”."
    assert set(message) == {"type", "id", "verb", "text", "url", "created", "unread"}


def test_nothing_is_pushed_before_commit_or_after_rollback(
    question_factory, patient, doctor, listening
):
    question = question_factory(author=patient)
    inbox = listening(patient)
    with pytest.raises(RuntimeError), transaction.atomic():
        forum.answer_create(
            question=question, author=doctor, body="Rest, hydrate and walk a little."
        )
        raise RuntimeError("the request failed after the answer")
    assert not Notification.objects.filter(recipient=patient).exists()
    assert inbox() == []


def test_the_actor_is_not_notified_of_their_own_action(
    question_factory, doctor, django_capture_on_commit_callbacks
):
    question = question_factory(author=doctor)
    with django_capture_on_commit_callbacks(execute=True):
        forum.answer_create(
            question=question, author=doctor, body="Answering my own question here."
        )
    assert not Notification.objects.filter(recipient=doctor).exists()


def test_followers_hear_of_answers_and_reply_authors_of_replies(
    question_factory, user_factory, doctor
):
    question = question_factory()
    follower, replier = user_factory(), user_factory()
    forum.question_follow(question=question, user=follower)
    answer = forum.answer_create(
        question=question, author=doctor, body="Keep a symptom diary for a week."
    )
    assert Notification.objects.filter(recipient=follower, verb=Verb.ANSWER).count() == 1
    forum.reply_create(
        question=question, answer=answer, author=replier, body="Good idea, thank you"
    )
    assert Notification.objects.filter(recipient=doctor, verb=Verb.REPLY).count() == 1


def test_accept_and_thanks_notify_the_doctor(question_factory, patient, user_factory):
    question = question_factory(author=patient, answers=1)
    answer = question.answers.get()
    forum.answer_accept(answer=answer, user=patient)
    forum.answer_thank(answer=answer, user=user_factory())
    verbs = set(Notification.objects.filter(recipient=answer.author).values_list("verb", flat=True))
    assert verbs == {Verb.ACCEPTED, Verb.THANKED}


def test_anonymous_asker_stays_anonymous_in_notifications(question_factory, patient):
    question = question_factory(author=patient, is_anonymous=True, answers=1)
    answer = question.answers.get()
    forum.reply_create(question=question, answer=answer, author=patient, body="Thank you, doctor")
    forum.answer_thank(answer=answer, user=patient)
    for notification in Notification.objects.filter(recipient=answer.author):
        assert notification.data["actor"] == "Anonymous patient"
        assert patient.name not in json.dumps(notification.data)


@pytest.fixture
def general_topic(db):
    """A topic without a tumour group, so no duty roster (tests/duty covers routing)."""
    from forum.models import Category

    return Category.objects.get(slug="living-with-cancer")


def test_doctors_hear_of_new_questions_in_their_specialty_on_the_site_by_default(
    doctor_factory,
    question_factory,
    general_topic,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    category = general_topic
    doctor = doctor_factory(specialties=[category])
    assert not Preference.objects.filter(user=doctor).exists()
    with django_capture_on_commit_callbacks(execute=True):
        question_factory(category=category)
    assert Notification.objects.filter(verb=Verb.SPECIALTY_QUESTION, recipient=doctor).count() == 1
    assert not OutgoingEmail.objects.filter(recipient=doctor).exists() and mailoutbox == []


def test_doctors_who_turn_specialty_questions_off_hear_nothing(
    doctor_factory, question_factory, general_topic
):
    category = general_topic
    quiet = doctor_factory(specialties=[category])
    Preference.objects.create(user=quiet, verb=Verb.SPECIALTY_QUESTION, in_app=False, email=False)
    question_factory(category=category)
    assert not Notification.objects.filter(recipient=quiet).exists()


def test_email_goes_to_those_who_chose_it_with_an_unsubscribe_link(
    question_factory, patient, doctor, mailoutbox, django_capture_on_commit_callbacks, client
):
    question = question_factory(author=patient)
    with django_capture_on_commit_callbacks(execute=True):
        forum.answer_create(
            question=question, author=doctor, body="Rest, hydrate and walk a little."
        )
    (mail,) = mailoutbox
    assert mail.to == [patient.email] and question.title in mail.body
    link = next(word for word in mail.body.split() if "/notifications/unsubscribe/" in word)
    response = client.get(link.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 200
    assert Preference.objects.get(user=patient, verb=Verb.ANSWER).email is False


def test_in_app_off_stores_nothing(question_factory, patient, doctor):
    Preference.objects.create(user=patient, verb=Verb.ANSWER, in_app=False, email=False)
    forum.answer_create(
        question=question_factory(author=patient), author=doctor, body="Rest and hydrate well."
    )
    assert not Notification.objects.filter(recipient=patient).exists()


def test_a_dead_channel_layer_loses_nothing(
    question_factory, patient, doctor, settings, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1"]},
        }
    }
    question = question_factory(author=patient)
    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        with django_capture_on_commit_callbacks(execute=True):
            answer = forum.answer_create(
                question=question, author=doctor, body="Rest, hydrate and walk a little."
            )
    assert answer.pk and Notification.objects.filter(recipient=patient).count() == 1
    assert len([r for r in caplog.records if "push" in r.getMessage()]) == 1


def test_mark_read_touches_only_ones_own(question_factory, patient, user_factory, doctor):
    other = user_factory()
    forum.answer_create(
        question=question_factory(author=patient),
        author=doctor,
        body="Rest and hydrate well, please.",
    )
    forum.answer_create(
        question=question_factory(author=other),
        author=doctor,
        body="Rest and hydrate well, please.",
    )
    theirs = Notification.objects.get(recipient=other)
    assert services.notifications_mark_read(user=patient, ids=[theirs.pk]) == []
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert len(services.notifications_mark_read(user=patient)) == 1


def test_forged_unsubscribe_link_is_refused(client):
    response = client.get("/notifications/unsubscribe/not-a-real-token/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
