"""The department's promise where people see it: the question page, the ask confirmation, home."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from duty.models import Pass, Routing, Shift, TumourGroup
from duty.services import department_day
from forum.models import Category, Question
from notifications.models import Notification, Verb

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(category):
    return TumourGroup.objects.get(category=category)


@pytest.fixture
def on_duty(doctor_factory, category, group):
    physician = doctor_factory(name="Dr. Zhao", specialties=[category])
    Shift.objects.create(group=group, day=department_day(), physician=physician)
    return physician


def test_the_asker_is_told_when_to_expect_an_answer(client, patient, category, on_duty):
    client.force_login(patient)
    response = client.post(
        reverse("forum:question-ask"),
        {
            "title": "Is a rising CEA after surgery a bad sign?",
            "body": "My CEA went from 3.1 to 5.2 three months after the operation.",
            "category": category.pk,
            "asker": "self",
        },
        follow=True,
    )
    page = response.content.decode()
    # Said once, in the box on the question page the confirmation opens on.
    assert page.count("aim to answer within 48 hours") == 1
    assert "not an emergency service" in page
    question = Question.objects.get(author=patient)
    due = timezone.localtime(question.routing.due_at).strftime("%Y-%m-%d %H:%M")
    assert due in page
    # Others read nothing of it; the physician on duty was told.
    client.logout()
    assert "aim to answer" not in client.get(question.get_absolute_url()).content.decode()
    assert Notification.objects.filter(recipient=on_duty, verb=Verb.DUTY_QUESTION).count() == 1


def test_physicians_claim_and_see_each_others_claims(
    client, question_factory, on_duty, doctor_factory, category
):
    question = question_factory(category=category)
    other = doctor_factory(name="Dr. Qian", specialties=[category])
    client.force_login(on_duty)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "I&#x27;m answering this" in page or "I'm answering this" in page
    client.post(reverse("duty:claim", args=[question.pk]))
    assert Routing.objects.get(question=question).claimed_by == on_duty
    client.force_login(other)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "Dr. Zhao is answering this question." in page
    response = client.post(reverse("duty:claim", args=[question.pk]), follow=True)
    assert "Dr. Zhao is already answering this question." in response.content.decode()
    assert Routing.objects.get(question=question).claimed_by == on_duty
    client.force_login(on_duty)
    client.post(reverse("duty:claim", args=[question.pk]), {"release": "1"})
    assert Routing.objects.get(question=question).claimed_by is None


def test_a_patient_cannot_claim_or_pass(client, patient, question_factory, category):
    question = question_factory(category=category)
    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "For physicians" not in page
    response = client.post(reverse("duty:claim", args=[question.pk]), follow=True)
    assert "Only verified physicians" in response.content.decode()
    gist = TumourGroup.objects.get(category__slug="gist")
    client.post(reverse("duty:pass", args=[question.pk]), {"group": gist.pk, "note": "x"})
    assert Question.objects.get(pk=question.pk).category == category
    assert not Pass.objects.exists()


def test_a_physician_passes_a_question_to_the_right_group(
    client, question_factory, on_duty, doctor_factory, category
):
    gist = TumourGroup.objects.get(category__slug="gist")
    gist_doctor = doctor_factory(name="Dr. Sun", specialties=[gist.category])
    question = question_factory(category=category)
    client.force_login(on_duty)
    response = client.post(
        reverse("duty:pass", args=[question.pk]),
        {"group": gist.pk, "note": "A stromal tumour, not colorectal."},
        follow=True,
    )
    assert "its physicians have been told" in response.content.decode()
    question.refresh_from_db()
    assert question.category == gist.category
    assert Routing.objects.get(question=question).group == gist
    told = Notification.objects.get(recipient=gist_doctor, verb=Verb.DUTY_PASSED)
    assert told.data["note"] == "A stromal tumour, not colorectal."


@pytest.mark.parametrize("value", ["", "abc", "-1", "999999", "٣"])
def test_passing_to_a_group_that_is_not_there_changes_nothing(
    client, question_factory, on_duty, category, value
):
    question = question_factory(category=category)
    client.force_login(on_duty)
    response = client.post(reverse("duty:pass", args=[question.pk]), {"group": value})
    assert response.status_code in (302, 404)
    assert Question.objects.get(pk=question.pk).category == category
    assert not Pass.objects.exists()


def test_the_physician_on_duty_finds_waiting_questions_first_at_home(
    client, question_factory, on_duty, category, django_assert_num_queries
):
    older = question_factory(category=category, title="A question from yesterday morning")
    Routing.objects.filter(question=older).update(published_at=timezone.now() - timedelta(hours=50))
    question_factory(category=category, title="A question from a minute ago")
    question_factory(category=category, answers=1, title="An answered question here")
    client.force_login(on_duty)
    page = client.get("/").content.decode()
    section = page[page.index("On duty today") : page.index("Waiting for an answer in your")]
    assert section.index("yesterday morning") < section.index("a minute ago")
    assert "answered question here" not in section
    assert "past the target" in section


@pytest.mark.parametrize("answers", [1, 8])
def test_a_physicians_question_page_costs_the_same_whatever_it_holds(
    client, question_factory, on_duty, category, answers, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = question_factory(category=category, answers=1, replies=1)
    client.force_login(on_duty)
    client.get("/")
    with CaptureQueriesContext(connection) as baseline:
        client.get(small.get_absolute_url())
    question = question_factory(category=category, answers=answers, replies=answers)
    with django_assert_num_queries(len(baseline)):
        client.get(question.get_absolute_url())


def test_a_question_without_a_tumour_group_has_a_clock_but_no_duty(
    client, question_factory, patient
):
    general = Category.objects.get(slug="living-with-cancer")
    question = question_factory(author=patient, category=general)
    routing = Routing.objects.get(question=question)
    assert routing.group is None and routing.on_duty is None
    assert not Notification.objects.filter(verb=Verb.DUTY_QUESTION).exists()


def test_the_physicians_home_costs_the_same_however_much_waits(
    client, question_factory, on_duty, category
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        client.get("/")  # the lists' caches refilled after the new questions
        with CaptureQueriesContext(connection) as counted:
            page = client.get("/").content.decode()
        return len(counted), page.count('class="duty-item')

    client.force_login(on_duty)
    question_factory(category=category)
    few, shown_few = queries()
    for _ in range(14):
        question_factory(category=category)
    many, shown_many = queries()
    assert (shown_few, shown_many) == (1, 15)
    assert few == many
