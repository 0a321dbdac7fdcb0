"""Visitors' home page from each process's cache, rendered again whenever what it shows changes."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache.backends import locmem
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Discipline
from forum import listcache as forum_listcache
from forum import services as forum_services
from forum.models import Category
from salon import listcache as salon_listcache
from salon import services as salon_services
from salon.models import Event

pytestmark = pytest.mark.django_db

HOME = "/"


@pytest.fixture
def changed(django_capture_on_commit_callbacks):
    """A change made in its own committed transaction, as a request makes it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def event_factory(moderator, changed):
    def make(*, days=3, **kwargs):
        start = timezone.now() + timedelta(days=days)
        details = {
            "title": "Eating well during chemotherapy",
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "location": "Outpatient building, Room 302",
            "capacity": 10,
            "state": Event.State.PUBLISHED,
        } | kwargs
        with changed():
            return salon_services.event_create(organiser=moderator, **details)

    return make


def home(client) -> str:
    return client.get(HOME).content.decode()


def events_section(client) -> str:
    return home(client).split('id="salon-title"')[1].split("</section>")[0]


def test_a_visitor_after_the_first_gets_the_home_page_for_no_query(
    client, question_factory, event_factory, django_assert_num_queries
):
    question_factory(title="Mouth sores during FOLFOX, what helps?")
    event_factory()
    Client().get(HOME)
    with django_assert_num_queries(0):
        page = home(client)
    assert "Mouth sores during FOLFOX, what helps?" in page
    assert "Eating well during chemotherapy" in page


def test_signed_in_doctors_still_get_their_own_panels(client, doctor, question_factory):
    question_factory()
    Client().get(HOME)
    client.force_login(doctor)
    page = home(client)
    assert "Waiting for an answer in your specialties" in page and doctor.name in page


# The salon's part


def test_a_published_event_shows_and_a_new_draft_moves_nothing(client, event_factory):
    assert "Eating well" not in events_section(client)
    event_factory()
    assert "Eating well during chemotherapy" in events_section(client)
    before = salon_listcache.version()
    event_factory(title="Still being planned", state=Event.State.DRAFT)
    assert salon_listcache.version() == before


def test_publishing_a_draft_shows_it(client, event_factory, moderator, changed):
    event = event_factory(state=Event.State.DRAFT)
    assert "Eating well" not in events_section(client)
    with changed():
        salon_services.event_update(event=event, organiser=moderator, state=Event.State.PUBLISHED)
    assert "Eating well during chemotherapy" in events_section(client)


def test_a_new_title_and_time_show(client, event_factory, moderator, changed):
    event = event_factory()
    home(client)
    later = event.starts_at + timedelta(days=1)
    with changed():
        salon_services.event_update(
            event=event,
            organiser=moderator,
            title="Eating well after surgery",
            starts_at=later,
            ends_at=later + timedelta(hours=2),
        )
    section = events_section(client)
    assert "Eating well after surgery" in section
    assert timezone.localtime(later).strftime("%Y-%m-%d") in section


def test_a_new_description_does_not_show_and_moves_nothing(
    client, event_factory, moderator, changed
):
    event = event_factory()
    home(client)
    before = salon_listcache.version()
    with changed():
        salon_services.event_update(event=event, organiser=moderator, description="New **notes**.")
    assert salon_listcache.version() == before


def test_a_cancelled_event_leaves_the_home_page(client, event_factory, moderator, changed):
    event = event_factory()
    assert "Eating well" in events_section(client)
    with changed():
        salon_services.event_cancel(event=event, organiser=moderator)
    assert "Eating well" not in events_section(client)


def test_places_taken_and_given_up_show(client, event_factory, patient, changed):
    event = event_factory()
    assert "0 of 10 places taken" in events_section(client)
    with changed():
        salon_services.rsvp_create(event=event, user=patient)
    assert "1 of 10 places taken" in events_section(client)
    with changed():
        salon_services.rsvp_cancel(event=event, user=patient)
    assert "0 of 10 places taken" in events_section(client)


def test_a_place_at_an_event_the_home_does_not_list_moves_nothing(
    client, event_factory, patient, changed
):
    for days in (1, 2, 3):
        event_factory(days=days, title=f"Meeting in {days} days")
    later = event_factory(days=30, title="Meeting next month")
    assert "Meeting next month" not in events_section(client)
    before = salon_listcache.version()
    with changed():
        salon_services.rsvp_create(event=later, user=patient)
    assert salon_listcache.version() == before


def test_an_event_deleted_in_the_admin_leaves_the_home_page(
    admin_client, client, event_factory, changed
):
    event_factory(title="Kept meeting")
    deleted = event_factory(title="Deleted meeting")
    assert "Deleted meeting" in events_section(client)
    with changed():
        response = admin_client.post(
            reverse("admin:salon_event_delete", args=[deleted.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    section = events_section(client)
    assert "Kept meeting" in section and "Deleted meeting" not in section


def test_events_deleted_together_in_the_admin_leave_the_home_page(
    admin_client, client, event_factory, changed
):
    first, second = event_factory(title="First meeting"), event_factory(title="Second meeting")
    assert "Second meeting" in events_section(client)
    with changed():
        response = admin_client.post(
            reverse("admin:salon_event_changelist"),
            {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        )
    assert response.status_code == 302
    section = events_section(client)
    assert "First meeting" not in section and "Second meeting" not in section


def test_an_event_going_live_shows_once_the_page_reaches_its_start(
    client, event_factory, monkeypatch
):
    soon = timezone.now() + timedelta(seconds=30)
    event = event_factory(starts_at=soon, ends_at=soon + timedelta(hours=1))
    assert "Live now" not in events_section(client)
    # Time moves on and the event starts; nothing in it changed.
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    assert "Live now" not in events_section(client)  # kept until its start
    real = locmem.time.time
    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: real() + 31))
    assert "Live now" in events_section(client)


# The forum's part: the questions, the unanswered count, topics and physicians


def test_a_new_question_and_an_answer_show(client, question_factory, doctor, changed):
    home(client)
    with changed():
        question = question_factory(title="Is walking after surgery safe?")
    page = home(client)
    assert "Is walking after surgery safe?" in page
    assert "1 question waiting for an answer" in page
    with changed():
        forum_services.answer_create(
            question=question, author=doctor, body="Yes: short walks from the first day help."
        )
    assert "0 questions waiting for an answer" in home(client)


def test_a_verified_physician_joins_the_physicians(client, pending_physician, moderator, changed):
    assert pending_physician.user.name not in home(client)
    with changed():
        account_services.physician_decide(
            profile=pending_physician, moderator=moderator, approve=True
        )
    assert "Dr. Pending" in home(client)


def test_a_physicians_new_name_shows(client, doctor, changed):
    assert "Dr. Wang" in home(client)
    with changed():
        account_services.user_update_profile(
            user=doctor, name="Dr. Wang Lei", timezone_name=doctor.timezone
        )
    assert "Dr. Wang Lei" in home(client)


def test_a_renamed_discipline_shows(client, doctor_factory, changed):
    discipline = Discipline.objects.order_by("pk").first()
    doctor_factory(discipline=discipline)
    assert discipline.name in home(client)
    before = forum_listcache.version()
    with changed():
        discipline.name = "Colorectal surgery and more"
        discipline.save()  # as the admin saves
    assert forum_listcache.version() != before
    assert "Colorectal surgery and more" in home(client)


def test_a_topics_new_description_shows(client, changed):
    category = Category.objects.order_by("position").first()
    home(client)
    with changed():
        category.description = "Everything about the first weeks after diagnosis."
        category.save()  # as the admin saves
    assert "Everything about the first weeks after diagnosis." in home(client)


# Readers the plain members' page does not serve: verified physicians get
# their own shared page with their panels filled in, moderators and a member
# with a question waiting the public parts kept in the process. Each role's
# home, kept and not, is compared in tests/core/test_memberpage.py.


@pytest.mark.usefixtures("kept")
@pytest.mark.parametrize("n_questions", [1, 20])
@pytest.mark.parametrize("who", ["physician", "moderator"])
def test_a_physicians_and_a_moderators_home_cost_only_their_own_panels(
    client, doctor, moderator, question_factory, n_questions, who, django_assert_num_queries
):
    for _ in range(n_questions):
        question_factory(tags=["Nutrition"])
    client.force_login(doctor if who == "physician" else moderator)
    home(client)  # their user and the public parts kept
    # A physician: their groups on duty today (what waits in their specialties
    # is kept for them under the forum's version). A moderator: the latest
    # questions, held ones too, with their tags.
    with django_assert_num_queries(1 if who == "physician" else 2):
        page = home(client)
    assert page.count('class="question-row') >= min(n_questions, 8)


@pytest.mark.usefixtures("kept")
def test_a_new_question_reaches_a_physicians_home_after_its_commit(
    client, doctor, question_factory, changed
):
    client.force_login(doctor)
    assert "Is it normal to lose taste after radiotherapy?" not in home(client)
    with changed():
        question_factory(title="Is it normal to lose taste after radiotherapy?")
    assert "Is it normal to lose taste after radiotherapy?" in home(client)


@pytest.mark.usefixtures("kept")
def test_physicians_share_a_home_each_with_their_own_panels(
    client, settings, doctor_factory, question_factory, category, user_factory
):
    from tests.memberpages import both

    other_topic = Category.objects.exclude(pk=category.pk).order_by("position").first()
    mine = doctor_factory(name="Dr. Mine", specialties=[category])
    theirs = doctor_factory(name="Dr. Theirs", specialties=[other_topic])
    question_factory(title="Waiting in the first topic", category=category)
    question_factory(title="Waiting in the other topic", category=other_topic)
    client.force_login(mine)
    home(client)  # the physicians' home, rendered for the first
    client.force_login(theirs)
    usual, cached = both(client, settings, HOME)
    assert cached == usual
    panel = cached.split('id="waiting-title"')[1].split("</section>")[0]
    assert "Waiting in the other topic" in panel and "Waiting in the first topic" not in panel
    assert "Dr. Theirs" in cached.split("</header>")[0]


@pytest.mark.usefixtures("kept")
def test_a_physicians_new_specialty_shows_what_waits_in_it(
    client, doctor_factory, question_factory, category, changed
):
    other_topic = Category.objects.exclude(pk=category.pk).order_by("position").first()
    physician = doctor_factory(specialties=[category])
    question_factory(title="Waiting in the other topic", category=other_topic)
    client.force_login(physician)

    def waiting_panel() -> str:
        return home(client).split('id="waiting-title"')[1].split("</section>")[0]

    assert "Waiting in the other topic" not in waiting_panel()
    with changed():
        physician.physician_profile.specialties.add(other_topic)
    assert "Waiting in the other topic" in waiting_panel()
