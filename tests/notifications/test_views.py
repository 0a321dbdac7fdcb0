import pytest
from django.urls import reverse

from forum import services as forum
from notifications.models import Notification, Preference, Verb

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(question_factory, patient, doctor_factory):
    def make(count=1):
        question = question_factory(author=patient)
        for index in range(count):
            forum.answer_create(
                question=question,
                author=doctor_factory(),
                body=f"Answer number {index} with advice.",
            )
        return question

    return make


def test_list_shows_texts_and_the_bell_counts_unread(client, patient, answered):
    question = answered(2)
    client.force_login(patient)
    content = client.get(reverse("notifications:list")).content.decode()
    assert f"answered “{question.title}”" in content
    assert "data-unread>2<" in content


def test_mark_one_and_mark_all(client, patient, answered):
    answered(3)
    client.force_login(patient)
    first = Notification.objects.filter(recipient=patient).first()
    client.post(reverse("notifications:mark-read"), {"id": first.pk})
    assert Notification.objects.filter(recipient=patient, read_at__isnull=True).count() == 2
    client.post(reverse("notifications:mark-read"), {"all": "1"})
    assert not Notification.objects.filter(recipient=patient, read_at__isnull=True).exists()


def test_marking_another_persons_notification_changes_nothing(
    client, patient, answered, user_factory
):
    answered()
    theirs = Notification.objects.get(recipient=patient)
    client.force_login(user_factory())
    client.post(reverse("notifications:mark-read"), {"id": theirs.pk})
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_does_not_redirect_off_site(client, patient):
    client.force_login(patient)
    response = client.post(
        reverse("notifications:mark-read"), {"all": "1", "next": "//evil.example/"}
    )
    assert response["Location"] == reverse("notifications:list")


def test_preferences_are_saved(client, doctor):
    client.force_login(doctor)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "A new question in your specialty" in page and "moderation queue" not in page
    client.post(
        reverse("notifications:preferences"),
        {"specialty_question__in_app": "on", "answer__in_app": "on", "answer__email": ""},
    )
    assert Preference.objects.get(user=doctor, verb=Verb.SPECIALTY_QUESTION).in_app is True
    answer_choice = Preference.objects.get(user=doctor, verb=Verb.ANSWER)
    assert (answer_choice.in_app, answer_choice.email) == (True, False)


def test_pages_need_sign_in(client):
    assert client.get(reverse("notifications:list")).status_code == 302
    assert client.get(reverse("notifications:preferences")).status_code == 302


@pytest.mark.parametrize("count", [1, 25])
def test_list_query_count_is_flat(client, patient, answered, count, django_assert_num_queries):
    answered(count)
    client.force_login(patient)
    client.get("/")  # warm the session cache
    with django_assert_num_queries(3):  # user with the bell's totals, page count, page rows
        assert client.get(reverse("notifications:list")).status_code == 200
