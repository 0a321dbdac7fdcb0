import csv
import io
from datetime import timedelta

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, Verb
from salon import services
from salon.models import RSVP, Event, LiveQuestion, Vote

pytestmark = pytest.mark.django_db

# Query budgets: the same whatever the number of events, hosts and attendees.
# Visitors: upcoming events and their hosts, past events and their hosts.
EVENT_LIST_QUERIES_VISITOR = 4
# Signed in: plus the session's user with the header's notification bell, and the viewer's places.
EVENT_LIST_QUERIES_SIGNED_IN = EVENT_LIST_QUERIES_VISITOR + 2
# The event with its category, its hosts with their profiles.
EVENT_PAGE_QUERIES_VISITOR = 2
# Signed in: plus the session's user with the notification bell, and the viewer's place.
EVENT_PAGE_QUERIES_SIGNED_IN = EVENT_PAGE_QUERIES_VISITOR + 2
# The session's user with the bell, the event and its hosts, the viewer's place,
# the questions with their askers, the viewer's votes.
LIVE_ROOM_QUERIES = 6

FORM = {
    "title": "Eating well during chemotherapy",
    "description": "A talk with **tasting**.",
    "starts_at": "2031-03-04T14:00",
    "ends_at": "2031-03-04T16:00",
    "location": "Outpatient building, Room 302",
    "capacity": "20",
    "waitlist": "on",
    "state": "published",
}


def _queries_of(client, url):
    from django.db import connection

    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.fixture
def many_events(event_factory, user_factory, doctor_factory):
    def make(count: int, attendees_each: int):
        people = [user_factory() for _ in range(attendees_each)]
        hosts = [doctor_factory() for _ in range(2)]
        for _ in range(count):
            event_factory(attendees=people, hosts=hosts, capacity=max(attendees_each, 1))
            event_factory(when="past", attendees=people, hosts=hosts)
        return people

    return make


@pytest.mark.parametrize(("events", "attendees"), [(1, 1), (12, 8)])
def test_event_list_query_count_is_flat_for_visitors(
    client, many_events, events, attendees, django_assert_num_queries
):
    many_events(events, attendees)
    with django_assert_num_queries(EVENT_LIST_QUERIES_VISITOR):
        response = client.get(reverse("salon:event-list"))
    assert response.content.decode().count('class="card event-card') == 2 * events


@pytest.mark.parametrize(("events", "attendees"), [(1, 1), (12, 8)])
def test_event_list_query_count_is_flat_when_signed_in(
    client, many_events, events, attendees, django_assert_num_queries
):
    people = many_events(events, attendees)
    client.force_login(people[0])
    client.get(reverse("salon:event-list"))  # warms the session cache
    with django_assert_num_queries(EVENT_LIST_QUERIES_SIGNED_IN):
        response = client.get(reverse("salon:event-list"))
    assert response.content.decode().count("You have a place") == events


@pytest.mark.parametrize(("hosts", "attendees"), [(1, 1), (4, 25)])
def test_event_page_query_count_is_flat(
    client, event_factory, doctor_factory, user_factory, hosts, attendees, django_assert_num_queries
):
    people = [user_factory() for _ in range(attendees)]
    event = event_factory(
        hosts=[doctor_factory() for _ in range(hosts)], attendees=people, capacity=attendees
    )
    with django_assert_num_queries(EVENT_PAGE_QUERIES_VISITOR):
        client.get(event.get_absolute_url())
    client.force_login(people[-1])
    client.get(event.get_absolute_url())
    with django_assert_num_queries(EVENT_PAGE_QUERIES_SIGNED_IN):
        response = client.get(event.get_absolute_url())
    assert response.content.decode().count("Verified physician") == hosts


def test_list_shows_upcoming_first_and_past_below_and_hides_drafts(client, event_factory):
    soon = event_factory(title="Coming up soon")
    event_factory(title="Secret draft plan", state=Event.State.DRAFT)
    event_factory(title="Happened last week", when="past")
    content = client.get(reverse("salon:event-list")).content.decode()
    assert content.index("Coming up soon") < content.index("Happened last week")
    assert "Secret draft plan" not in content
    assert soon.get_absolute_url() in content


def test_organisers_see_drafts(client, event_factory, organiser):
    draft = event_factory(title="Secret draft plan", state=Event.State.DRAFT)
    client.force_login(organiser)
    assert "Secret draft plan" in client.get(reverse("salon:event-list")).content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_drafts_are_not_found_for_everyone_else(client, event_factory, patient):
    draft = event_factory(state=Event.State.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(patient)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.post(reverse("salon:event-rsvp", args=[draft.pk])).status_code == 404


def test_event_page_shows_hosts_place_and_count(client, event_factory, host, patient):
    event = event_factory(attendees=[patient], capacity=12)
    content = client.get(event.get_absolute_url()).content.decode()
    assert host.name in content
    assert host.physician_profile.get_title_display() in content
    assert host.physician_profile.hospital in content
    assert "Outpatient building, Room 302" in content
    assert "1 of 12 places taken" in content


def test_the_meeting_link_is_for_confirmed_attendees_only(client, event_factory, user_factory):
    confirmed, waiting = user_factory(), user_factory()
    event = event_factory(
        is_online=True,
        location="",
        online_url="https://meeting.example.com/room-42",
        capacity=1,
        attendees=[confirmed, waiting],
    )
    link = "https://meeting.example.com/room-42"
    assert link not in client.get(event.get_absolute_url()).content.decode()
    client.force_login(waiting)
    assert link not in client.get(event.get_absolute_url()).content.decode()
    client.force_login(confirmed)
    assert link in client.get(event.get_absolute_url()).content.decode()


def test_rsvp_and_cancel_through_the_page(client, event_factory, patient):
    event = event_factory()
    client.force_login(patient)
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]), follow=True)
    assert "Your place is confirmed" in response.content.decode()
    assert "You have a confirmed place." in response.content.decode()
    response = client.post(
        reverse("salon:event-rsvp", args=[event.pk]), {"cancel": "1"}, follow=True
    )
    assert "Your place is cancelled" in response.content.decode()
    assert RSVP.objects.get(user=patient).status == RSVP.Status.CANCELLED


def test_waitlisted_people_see_their_place_in_line(client, event_factory, user_factory):
    first, second = user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[user_factory(), first])
    client.force_login(second)
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]), follow=True)
    content = response.content.decode()
    assert "you are on the waitlist" in content
    assert "You are number 2 on the waitlist." in content


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("second", "You already have a place at this event."),
        ("past", "This event is over."),
        ("full", "This event is full and has no waitlist."),
    ],
)
def test_bad_rsvps_show_the_message_on_the_page_and_change_nothing(
    client, event_factory, user_factory, patient, case, message
):
    if case == "second":
        event = event_factory(attendees=[patient])
    elif case == "past":
        event = event_factory(when="past")
    else:
        event = event_factory(capacity=1, has_waitlist=False, attendees=[user_factory()])
    before = list(RSVP.objects.values_list("user_id", "status"))
    client.force_login(patient)
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]), follow=True)
    assert message in response.content.decode()
    assert list(RSVP.objects.values_list("user_id", "status")) == before


def test_a_suspended_member_is_told_why_they_cannot_take_a_place(client, event_factory, patient):
    event = event_factory()
    patient.suspended_until = timezone.now() + timedelta(days=3)
    patient.save(update_fields=["suspended_until"])
    client.force_login(patient)
    page = client.get(event.get_absolute_url()).content.decode()
    assert 'data-testid="form-closed"' in page and "Take a place" not in page
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]), follow=True)
    assert "Your account is suspended until" in response.content.decode().split("</header>")[1]
    assert not RSVP.objects.exists()


def test_visitors_are_sent_to_sign_in_to_rsvp(client, event_factory):
    event = event_factory()
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_organisers_create_events_through_the_form(client, organiser, host):
    client.force_login(organiser)
    assert client.get(reverse("salon:event-create")).status_code == 200
    response = client.post(reverse("salon:event-create"), FORM | {"hosts": [host.pk]})
    event = Event.objects.get()
    assert response.status_code == 302 and response["Location"] == event.get_absolute_url()
    assert event.state == Event.State.PUBLISHED and list(event.hosts.all()) == [host]
    # The form's times are China Standard Time: 14:00 there is 06:00 UTC.
    assert event.starts_at.astimezone(timezone.UTC).hour == 6


def test_patients_and_doctors_cannot_open_the_organiser_pages(
    client, patient, doctor, event_factory
):
    event = event_factory()
    for person in (patient, doctor):
        client.force_login(person)
        assert client.get(reverse("salon:event-create")).status_code == 403
        assert client.post(reverse("salon:event-create"), FORM).status_code == 403
        assert client.get(reverse("salon:event-edit", args=[event.pk])).status_code == 403
        assert client.get(reverse("salon:event-attendees", args=[event.pk])).status_code == 403
        assert client.get(reverse("salon:event-attendees-csv", args=[event.pk])).status_code == 403
    assert Event.objects.count() == 1


def test_end_before_start_is_a_form_error(client, organiser):
    client.force_login(organiser)
    response = client.post(reverse("salon:event-create"), FORM | {"ends_at": "2031-03-04T13:00"})
    assert response.status_code == 200
    assert "The event must end after it starts." in response.content.decode()
    assert not Event.objects.exists()


def test_capacity_below_confirmed_count_is_a_form_error_on_edit(
    client, organiser, event_factory, user_factory
):
    event = event_factory(capacity=5, attendees=[user_factory() for _ in range(3)])
    client.force_login(organiser)
    form = client.get(reverse("salon:event-edit", args=[event.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data |= {
        "starts_at": timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(event.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "hosts": [host.pk for host in data.pop("hosts")],
        "online": "",
        "waitlist": "on",
        "category": "",
        "capacity": "2",
    }
    response = client.post(reverse("salon:event-edit", args=[event.pk]), data)
    assert response.status_code == 200
    assert "3 people already have a confirmed place" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 5


def test_editing_the_time_notifies_attendees(client, organiser, event_factory, patient):
    event = event_factory(attendees=[patient])
    client.force_login(organiser)
    response = client.post(
        reverse("salon:event-edit", args=[event.pk]),
        FORM
        | {"title": event.title, "starts_at": "2031-05-06T09:00", "ends_at": "2031-05-06T11:00"},
    )
    assert response.status_code == 302
    change = Notification.objects.get(recipient=patient, verb=Verb.EVENT_CHANGED)
    assert "2031-05-06" in change.data["change"]["en"] and "09:00" in change.data["change"]["en"]


def test_attendee_list_and_csv_export(client, organiser, event_factory, user_factory):
    confirmed = user_factory(name="=SUM(A1)")
    waiting = user_factory(name="王芳")
    event = event_factory(capacity=1, attendees=[confirmed, waiting])
    client.force_login(organiser)
    page = client.get(reverse("salon:event-attendees", args=[event.pk])).content.decode()
    assert "王芳" in page and confirmed.email in page
    response = client.get(reverse("salon:event-attendees-csv", args=[event.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Name", "E-mail address", "Status", "Waitlist position", "Signed up"]
    assert rows[1][:4] == ["'=SUM(A1)", confirmed.email, "Confirmed", ""]
    assert rows[2][:4] == ["王芳", waiting.email, "On the waitlist", "1"]


def test_home_shows_upcoming_salon_events(client, event_factory):
    event_factory(title="Eating well during chemotherapy")
    event_factory(title="A draft nobody sees", state=Event.State.DRAFT)
    content = client.get("/").content.decode()
    assert "Upcoming salon events" in content
    assert "Eating well during chemotherapy" in content
    assert "A draft nobody sees" not in content


# The live room


def test_the_live_room_is_for_confirmed_attendees(client, event_factory, user_factory):
    confirmed, waiting = user_factory(), user_factory()
    event = event_factory(when="live", capacity=1, attendees=[confirmed, waiting])
    url = reverse("salon:event-live", args=[event.pk])
    assert client.get(url).status_code == 302
    client.force_login(waiting)
    response = client.get(url, follow=True)
    assert "open to people with a confirmed place" in response.content.decode()
    client.force_login(confirmed)
    response = client.get(url)
    content = response.content.decode()
    assert response.status_code == 200
    assert f'data-socket-path="/ws/salon/{event.pk}/"' in content
    assert "js/salon.js" in content and "<script>" not in content


@pytest.mark.parametrize("questions", [1, 20])
def test_live_room_query_count_is_flat(
    client, event_factory, user_factory, questions, django_assert_num_queries
):
    people = [user_factory() for _ in range(4)]
    event = event_factory(when="live", attendees=people)
    for number in range(questions):
        question = services.live_question_create(
            event=event, author=people[number % 4], body=f"Question number {number}?"
        )
        services.live_question_vote(event=event, question=question, user=people[(number + 1) % 4])
    client.force_login(people[0])
    url = reverse("salon:event-live", args=[event.pk])
    client.get(url)
    with django_assert_num_queries(LIVE_ROOM_QUERIES):
        response = client.get(url)
    assert response.content.decode().count('id="live-question-') == questions


def test_asking_and_voting_without_javascript(client, event_factory, user_factory):
    asker, voter = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, voter])
    client.force_login(asker)
    response = client.post(
        reverse("salon:live-question-create", args=[event.pk]),
        {"body": "Is it safe to eat **ginger**?"},
        follow=True,
    )
    assert "<strong>ginger</strong>" in response.content.decode()
    question = LiveQuestion.objects.get()
    client.force_login(voter)
    url = reverse("salon:live-question-vote", args=[event.pk, question.pk])
    response = client.post(url, follow=True)
    assert "You voted" in response.content.decode()
    assert "1 vote" in response.content.decode()
    response = client.post(url, follow=True)
    assert "You have already voted for this question." in response.content.decode()
    assert Vote.objects.count() == 1


def test_the_room_script_gets_json(client, event_factory, user_factory):
    asker, voter = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, voter])
    client.force_login(asker)
    headers = {"X-Requested-With": "fetch"}
    response = client.post(
        reverse("salon:live-question-create", args=[event.pk]), {"body": "Short?"}, headers=headers
    )
    assert response.status_code == 400 and "at least 10 characters" in response.json()["error"]
    response = client.post(
        reverse("salon:live-question-create", args=[event.pk]),
        {"body": "Is it safe to eat ginger?"},
        headers=headers,
    )
    question_id = response.json()["id"]
    client.force_login(voter)
    response = client.post(
        reverse("salon:live-question-vote", args=[event.pk, question_id]), headers=headers
    )
    assert response.json() == {"ok": True, "id": question_id, "votes": 1, "votes_label": "1 vote"}


def test_a_vote_through_another_events_url_is_refused(client, event_factory, user_factory):
    asker, voter = user_factory(), user_factory()
    here = event_factory(when="live", attendees=[asker, voter])
    elsewhere = event_factory(when="live", attendees=[asker, voter])
    question = services.live_question_create(
        event=elsewhere, author=asker, body="Which foods help?"
    )
    client.force_login(voter)
    response = client.post(
        reverse("salon:live-question-vote", args=[here.pk, question.pk]),
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "That question belongs to another event."
    assert not Vote.objects.exists()


def test_the_room_list_fragment_for_reconnects(client, event_factory, patient):
    event = event_factory(when="live", attendees=[patient])
    services.live_question_create(event=event, author=patient, body="Which foods help most?")
    client.force_login(patient)
    response = client.get(reverse("salon:event-live", args=[event.pk]) + "?partial=questions")
    content = response.content.decode()
    assert content.lstrip().startswith('<div class="live-questions"')
    assert "Which foods help most?" in content and "<html" not in content


def test_hosts_mark_answered_and_publish_after_the_event(client, event_factory, host, patient):
    event = event_factory(when="live", attendees=[patient])
    question = services.live_question_create(event=event, author=patient, body="Which foods help?")
    client.force_login(host)
    page = client.get(reverse("salon:event-live", args=[event.pk])).content.decode()
    assert "Mark answered" in page
    client.post(
        reverse("salon:live-question-answered", args=[event.pk, question.pk]),
        {"answer": "Small, frequent meals rich in protein help most people."},
    )
    question.refresh_from_db()
    assert question.is_answered
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    response = client.post(reverse("salon:live-questions-publish", args=[event.pk]), follow=True)
    assert "1 question is now published in the forum." in response.content.decode()
    question.refresh_from_db()
    assert question.forum_question is not None
    assert "Read it in the forum" in response.content.decode()


def test_attendees_cannot_mark_answered_through_the_page(client, event_factory, user_factory):
    asker, other = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, other])
    question = services.live_question_create(event=event, author=asker, body="Which foods help?")
    client.force_login(other)
    assert (
        "Mark answered"
        not in client.get(reverse("salon:event-live", args=[event.pk])).content.decode()
    )
    response = client.post(
        reverse("salon:live-question-answered", args=[event.pk, question.pk]),
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 403
    question.refresh_from_db()
    assert not question.is_answered


def test_asking_too_quickly_answers_429(client, event_factory, patient, settings):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"salon_question": (1, 600)}
    event = event_factory(when="live", attendees=[patient])
    client.force_login(patient)
    url = reverse("salon:live-question-create", args=[event.pk])
    headers = {"X-Requested-With": "fetch"}
    assert client.post(url, {"body": "Which foods help most?"}, headers=headers).status_code == 200
    response = client.post(url, {"body": "And which ones to avoid?"}, headers=headers)
    assert response.status_code == 429 and "wait a little" in response.json()["error"]
    assert LiveQuestion.objects.count() == 1


def test_a_question_sent_twice_from_the_room_is_one_question(client, event_factory, patient):
    event = event_factory(when="live", attendees=[patient])
    client.force_login(patient)
    url = reverse("salon:live-question-create", args=[event.pk])
    headers = {"X-Requested-With": "fetch"}
    first = client.post(url, {"body": "Which foods help most?"}, headers=headers)
    again = client.post(url, {"body": "Which foods help most?"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"ok": True, "id": LiveQuestion.objects.get().pk}


def test_the_admin_lists_and_edits_salon_data(admin_client, event_factory, patient):
    event = event_factory(attendees=[patient])
    services.live_question_create(event=event, author=patient, body="Which foods help most?")
    for model in ("event", "rsvp", "livequestion", "vote"):
        assert admin_client.get(reverse(f"admin:salon_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:salon_event_change", args=[event.pk])).status_code == 200


def test_event_times_name_their_zone_in_the_readers_language(client, event_factory, patient):
    event = event_factory()
    chinese = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "(北京时间)" in chinese.content.decode()
    assert "(China Standard Time)" in english.content.decode()
    for response in (chinese, english):
        assert "(CST)" not in response.content.decode()
    patient.timezone = "Europe/London"
    patient.save(update_fields=["timezone"])
    client.force_login(patient)
    content = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert "(英国时间)" in content.decode()


def test_host_cards_name_hospital_and_department_in_chinese(client, event_factory, host):
    host.physician_profile.hospital_zh = "舒康医院"
    host.physician_profile.department_zh = "胃肠肿瘤科"
    host.physician_profile.save()
    event = event_factory()
    content = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "舒康医院 · 胃肠肿瘤科" in content
