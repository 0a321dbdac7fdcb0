"""'I'm answering this': one physician at a time, seen by the others, until it lapses."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from duty.models import Routing, Shift, TumourGroup
from duty.services import department_day
from forum import services as forum
from forum.models import Question

pytestmark = pytest.mark.django_db

ANSWERING = "is answering this question."
CLAIM_BUTTON = ">I'm answering this</button>"


def claim_url(question) -> str:
    return reverse("duty:claim", args=[question.pk])


def page_of(client, question) -> str:
    return client.get(question.get_absolute_url()).content.decode()


def claim_of(question) -> Routing:
    return Routing.objects.select_related("claimed_by").get(question=question)


@pytest.fixture
def group(category):
    return TumourGroup.objects.get(category=category)


@pytest.fixture
def zhao(doctor_factory, category, group):
    """The colorectal physician on duty today."""
    physician = doctor_factory(name="Dr. Zhao", specialties=[category])
    Shift.objects.create(group=group, day=department_day(), physician=physician)
    return physician


@pytest.fixture
def qian(doctor_factory, category):
    return doctor_factory(name="Dr. Qian", specialties=[category])


@pytest.fixture
def question(question_factory, patient, category):
    return question_factory(author=patient, category=category)


def test_a_claim_is_seen_by_other_physicians_and_not_by_the_asker(
    client, zhao, qian, patient, question
):
    client.force_login(zhao)
    response = client.post(claim_url(question), follow=True)
    page = response.content.decode()
    assert "Other physicians see that you are answering this question." in page
    assert "You are answering this question." in page
    assert "Let another physician answer" in page
    assert claim_of(question).claimed_by == zhao

    client.force_login(qian)
    page = page_of(client, question)
    assert f"Dr. Zhao {ANSWERING}" in page
    assert CLAIM_BUTTON not in page

    client.force_login(patient)
    page = page_of(client, question)
    assert ANSWERING not in page and "Dr. Zhao" not in page


def test_a_second_physician_cannot_take_a_held_claim(client, zhao, qian, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    client.force_login(qian)
    response = client.post(claim_url(question), follow=True)
    assert "Dr. Zhao is already answering this question." in response.content.decode()
    assert claim_of(question).claimed_by == zhao


def test_letting_go_frees_the_question_for_another_physician(client, zhao, qian, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    response = client.post(claim_url(question), {"release": "1"}, follow=True)
    assert "You are no longer answering this question." in response.content.decode()
    routing = claim_of(question)
    assert (routing.claimed_by, routing.claimed_at) == (None, None)

    client.force_login(qian)
    page = page_of(client, question)
    assert ANSWERING not in page and CLAIM_BUTTON in page
    client.post(claim_url(question))
    assert claim_of(question).claimed_by == qian


def test_another_physician_cannot_let_go_of_someone_elses_claim(client, zhao, qian, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    client.force_login(qian)
    client.post(claim_url(question), {"release": "1"})
    assert claim_of(question).claimed_by == zhao


def test_a_claim_lapses_after_the_set_time(client, settings, zhao, qian, question):
    settings.SHUKANG_CLAIM_MINUTES = 30
    client.force_login(zhao)
    client.post(claim_url(question))

    # Twenty-nine minutes on it still holds.
    Routing.objects.filter(question=question).update(
        claimed_at=timezone.now() - timedelta(minutes=29)
    )
    client.force_login(qian)
    assert f"Dr. Zhao {ANSWERING}" in page_of(client, question)
    client.post(claim_url(question))
    assert claim_of(question).claimed_by == zhao

    # Thirty-one minutes on, it has lapsed: nobody is shown, and another may claim.
    Routing.objects.filter(question=question).update(
        claimed_at=timezone.now() - timedelta(minutes=31)
    )
    page = page_of(client, question)
    assert ANSWERING not in page and CLAIM_BUTTON in page
    response = client.post(claim_url(question), follow=True)
    assert "Other physicians see that you are answering this question." in response.content.decode()
    assert claim_of(question).claimed_by == qian
    client.force_login(zhao)
    assert f"Dr. Qian {ANSWERING}" in page_of(client, question)


def test_claiming_twice_is_harmless_and_renews_the_claim(client, zhao, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    Routing.objects.filter(question=question).update(
        claimed_at=timezone.now() - timedelta(minutes=10)
    )
    before = claim_of(question).claimed_at
    response = client.post(claim_url(question), follow=True)
    page = response.content.decode()
    assert "Other physicians see that you are answering this question." in page
    assert "already answering" not in page
    routing = claim_of(question)
    assert routing.claimed_by == zhao and routing.claimed_at > before
    assert Routing.objects.filter(question=question).count() == 1


def test_letting_go_twice_is_harmless(client, zhao, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    client.post(claim_url(question), {"release": "1"})
    response = client.post(claim_url(question), {"release": "1"})
    assert response.status_code == 302
    assert claim_of(question).claimed_by is None


def test_the_claim_ends_when_a_physician_answers(client, zhao, qian, question):
    client.force_login(zhao)
    client.post(claim_url(question))
    forum.answer_create(question=question, author=zhao, body="Rest, hydrate and see your surgeon.")
    routing = claim_of(question)
    assert routing.claimed_by is None and routing.first_answer_by == zhao

    client.force_login(qian)
    page = page_of(client, question)
    assert ANSWERING not in page and CLAIM_BUTTON not in page
    response = client.post(claim_url(question), follow=True)
    assert "A physician has already answered this question." in response.content.decode()
    assert claim_of(question).claimed_by is None


def test_a_locked_question_cannot_be_claimed(client, zhao, moderator, question):
    forum.question_lock(question=question, moderator=moderator)
    client.force_login(zhao)
    response = client.post(claim_url(question), follow=True)
    assert "This question is not open for answers." in response.content.decode()
    assert claim_of(question).claimed_by is None


def test_a_question_published_before_the_roster_can_be_claimed(client, zhao, question):
    Routing.objects.filter(question=question).delete()
    client.force_login(zhao)
    client.post(claim_url(question))
    routing = claim_of(question)
    assert routing.claimed_by == zhao
    assert routing.published_at == Question.objects.get(pk=question.pk).created_at


@pytest.mark.parametrize("who", ["patient", "pending physician", "moderator"])
def test_only_verified_physicians_claim(
    client, patient, pending_physician, moderator, question, who
):
    person = {
        "patient": patient,
        "pending physician": pending_physician.user,
        "moderator": moderator,
    }
    client.force_login(person[who])
    response = client.post(claim_url(question))
    assert response.status_code == 302 and response["Location"] == question.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert "Only verified physicians can do this." in page
    assert claim_of(question).claimed_by is None


def test_a_suspended_physician_cannot_claim_what_they_may_not_answer(client, zhao, qian, question):
    zhao.suspended_until = timezone.now() + timedelta(days=3)
    zhao.save(update_fields=["suspended_until"])
    client.force_login(zhao)
    response = client.post(claim_url(question), follow=True)
    page = response.content.decode()
    assert (
        "Your account is suspended until" in page
        and "Other physicians see that you are answering this question." not in page
    )
    assert claim_of(question).claimed_by is None
    # So nobody is told that a physician who cannot answer is answering.
    client.force_login(qian)
    page = page_of(client, question)
    assert ANSWERING not in page and CLAIM_BUTTON in page


def test_a_visitor_is_sent_to_sign_in_and_claims_nothing(client, question):
    response = client.post(claim_url(question))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert claim_of(question).claimed_by is None


def test_claiming_needs_a_post(client, zhao, question):
    client.force_login(zhao)
    assert client.get(claim_url(question)).status_code == 405
    assert claim_of(question).claimed_by is None


def test_a_question_the_physician_cannot_see_is_not_found(
    client, settings, zhao, patient, category
):
    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    held = forum.question_create(
        author=patient,
        title="A question still waiting for a moderator",
        body="It is held because it is my first post on the site.",
        category=category,
    )
    client.force_login(zhao)
    assert client.post(claim_url(held)).status_code == 404
    assert client.post(reverse("duty:claim", args=[999_999])).status_code == 404
    assert not Routing.objects.filter(question=held).exists()


# Two physicians press the button at the same moment


@pytest.fixture
def tumour_groups(transactional_db):
    """Transactional tests flush the data migrations' rows; put the tumour groups back."""
    import importlib

    from django.apps import apps

    seed = importlib.import_module("duty.migrations.0002_seed_tumour_groups").seed
    seed(apps, None)


def claim_at_once(question, physicians) -> tuple[dict[int, str], list[Exception]]:
    """Each physician presses "I'm answering this" in their own browser at the same moment."""
    barrier = threading.Barrier(len(physicians))
    pages, errors = {}, []

    def press(physician):
        try:
            browser = Client()
            browser.force_login(physician)
            barrier.wait(timeout=30)
            response = browser.post(claim_url(question), follow=True)
            pages[physician.pk] = response.content.decode()
        except Exception as error:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(person,)) for person in physicians]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return pages, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pre_roster", [False, True], ids=["routed", "no-routing-yet"])
def test_two_physicians_claiming_at_once_one_wins(
    tumour_groups, doctor_factory, question_factory, category, pre_roster
):
    physicians = [
        doctor_factory(name=name, specialties=[category]) for name in ("Dr. Zhao", "Dr. Qian")
    ]
    for round_ in range(3):
        question = question_factory(category=category)
        if pre_roster:
            # Published before the roster: both requests create its routing too.
            Routing.objects.filter(question=question).delete()

        pages, errors = claim_at_once(question, physicians)

        assert errors == [], f"round {round_}"
        winner = claim_of(question).claimed_by
        (loser,) = [person for person in physicians if person != winner]
        assert "Other physicians see that you are answering this question." in pages[winner.pk]
        assert f"{winner.name} is already answering this question." in pages[loser.pk]
        assert Routing.objects.filter(question=question).count() == 1
