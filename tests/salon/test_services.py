import json
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from core.ratelimit import RateLimited
from forum import services as forum_services
from forum.models import Answer, PostState
from forum.models import Question as ForumQuestion
from moderation.models import Case
from moderation.services import case_approve
from notifications.models import Notification, Verb
from notifications.payloads import user_group
from salon import live, services
from salon.models import RSVP, Event, LiveQuestion, Vote
from tests.salon.conftest import move_event

pytestmark = pytest.mark.django_db


def in_an_hour(hours=1):
    return timezone.now() + timedelta(hours=hours)


def snapshot(event: Event) -> tuple:
    """What a refused action must leave as it was."""
    event.refresh_from_db()
    return (
        event.confirmed_count,
        event.waitlist_count,
        event.state,
        event.capacity,
        event.starts_at,
        event.ends_at,
        sorted(RSVP.objects.filter(event=event).values_list("user_id", "status", "position")),
        Notification.objects.count(),
    )


# Events


def test_organiser_creates_an_event_with_sanitised_description(organiser, host):
    event = services.event_create(
        organiser=organiser,
        title="Eating well during chemotherapy",
        description="**Bring** questions <script>alert(1)</script> [x](javascript:alert(1))",
        starts_at=in_an_hour(24),
        ends_at=in_an_hour(26),
        location="Room 302",
        capacity=20,
        hosts=[host],
    )
    assert "<strong>Bring</strong>" in event.description_html
    assert "<script" not in event.description_html
    assert 'href="javascript' not in event.description_html
    assert list(event.hosts.all()) == [host]
    assert event.state == Event.State.DRAFT and event.created_by == organiser


def test_patients_cannot_create_events(patient):
    with pytest.raises(PermissionDenied):
        services.event_create(
            organiser=patient,
            title="My own meeting",
            starts_at=in_an_hour(),
            ends_at=in_an_hour(2),
            location="Home",
            capacity=3,
        )
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("ends_at", {"ends_at": timezone.now() + timedelta(minutes=30)}),
        ("ends_at", {"ends_at": timezone.now() + timedelta(hours=1)}),
        ("capacity", {"capacity": 0}),
        ("location", {"location": "", "is_online": False}),
        ("title", {"title": "Hi"}),
        ("online_url", {"online_url": "http://insecure.example/room"}),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(organiser, field, changes):
    details = {
        "title": "Living with a stoma",
        "starts_at": timezone.now() + timedelta(hours=1),
        "ends_at": timezone.now() + timedelta(hours=2),
        "location": "Room 302",
        "capacity": 10,
    } | changes
    with pytest.raises(ValidationError) as error:
        services.event_create(organiser=organiser, **details)
    assert field in error.value.error_dict
    assert not Event.objects.exists()


def test_end_before_start_says_so(organiser):
    with pytest.raises(ValidationError) as error:
        services.event_create(
            organiser=organiser,
            title="Backwards meeting",
            starts_at=in_an_hour(3),
            ends_at=in_an_hour(2),
            location="Room 302",
            capacity=10,
        )
    assert error.value.error_dict["ends_at"][0].messages == ["The event must end after it starts."]


def test_only_verified_physicians_host(organiser, patient, doctor_factory):
    unverified = doctor_factory(verified=False, name="Dr. Unverified")
    with pytest.raises(ValidationError) as error:
        services.event_create(
            organiser=organiser,
            title="Hosted by the wrong people",
            starts_at=in_an_hour(),
            ends_at=in_an_hour(2),
            location="Room 302",
            capacity=10,
            hosts=[patient, unverified],
        )
    assert "Patient Zhang" in str(error.value) and "Dr. Unverified" in str(error.value)
    assert not Event.objects.exists()


def test_capacity_below_confirmed_count_is_refused_on_edit(event_factory, organiser, user_factory):
    event = event_factory(capacity=5, attendees=[user_factory() for _ in range(3)])
    before = snapshot(event)
    with pytest.raises(ValidationError) as error:
        services.event_update(event=event, organiser=organiser, capacity=2)
    assert error.value.error_dict["capacity"][0].messages == [
        "3 people already have a confirmed place: the capacity cannot be lower than that."
    ]
    assert snapshot(event) == before


def test_end_before_start_is_refused_on_edit(event_factory, organiser):
    event = event_factory()
    before = snapshot(event)
    with pytest.raises(ValidationError) as error:
        services.event_update(
            event=event, organiser=organiser, ends_at=event.starts_at - timedelta(minutes=1)
        )
    assert "ends_at" in error.value.error_dict
    assert snapshot(event) == before


def test_raising_the_capacity_promotes_the_waitlist(event_factory, organiser, user_factory):
    first, second, third = user_factory(), user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[first, second, third])
    services.event_update(event=event, organiser=organiser, capacity=2)
    statuses = dict(RSVP.objects.filter(event=event).values_list("user_id", "status"))
    assert statuses == {
        first.pk: RSVP.Status.CONFIRMED,
        second.pk: RSVP.Status.CONFIRMED,
        third.pk: RSVP.Status.WAITLISTED,
    }
    assert Notification.objects.filter(recipient=second, verb=Verb.WAITLIST_PROMOTED).exists()
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (2, 1)


def test_a_new_time_is_sent_to_everyone_signed_up(
    event_factory, organiser, user_factory, django_capture_on_commit_callbacks, listen
):
    confirmed, waiting, cancelled = user_factory(), user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[confirmed, waiting])
    services.rsvp_create(event=event, user=cancelled)
    services.rsvp_cancel(event=event, user=cancelled)
    received = listen(user_group(confirmed.pk))
    new_start = event.starts_at.replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(
            event=event,
            organiser=organiser,
            starts_at=new_start,
            ends_at=new_start + timedelta(hours=2),
        )
    changed = Notification.objects.filter(verb=Verb.EVENT_CHANGED)
    assert {n.recipient_id for n in changed} == {confirmed.pk, waiting.pk}
    change = changed.first().data["change"]
    assert set(change) == {"en", "zh-hans"}
    # 06:00 UTC is 14:00 in Asia/Shanghai.
    assert "14:00" in change["en"] and "Asia/Shanghai" in change["en"]
    event.refresh_from_db()
    assert event.sequence == 1
    pushed = [m for m in received() if m["type"] == "notification.created"]
    assert len(pushed) == 1 and pushed[0]["verb"] == Verb.EVENT_CHANGED
    json.loads(json.dumps(pushed[0]))


def test_editing_only_the_description_notifies_nobody(event_factory, organiser, patient):
    event = event_factory(attendees=[patient])
    services.event_update(event=event, organiser=organiser, description="New *words*.")
    assert not Notification.objects.filter(verb=Verb.EVENT_CHANGED).exists()
    event.refresh_from_db()
    assert event.sequence == 0 and "<em>words</em>" in event.description_html


def test_cancelling_tells_everyone_and_closes_sign_up(event_factory, organiser, user_factory):
    confirmed, waiting, latecomer = user_factory(), user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[confirmed, waiting])
    services.event_cancel(event=event, organiser=organiser)
    assert set(
        Notification.objects.filter(verb=Verb.EVENT_CANCELLED).values_list(
            "recipient_id", flat=True
        )
    ) == {confirmed.pk, waiting.pk}
    with pytest.raises(ValidationError, match="cancelled"):
        services.rsvp_create(event=event, user=latecomer)


def test_a_cancelled_event_stays_cancelled(event_factory, organiser):
    event = event_factory()
    services.event_cancel(event=event, organiser=organiser)
    with pytest.raises(ValidationError) as error:
        services.event_update(event=event, organiser=organiser, state=Event.State.PUBLISHED)
    assert "state" in error.value.error_dict


def test_an_event_with_attendees_cannot_go_back_to_draft(event_factory, organiser, patient):
    event = event_factory(attendees=[patient])
    with pytest.raises(ValidationError) as error:
        services.event_update(event=event, organiser=organiser, state=Event.State.DRAFT)
    assert "cancel the event instead" in str(error.value)


# Places


def test_signing_up_confirms_and_notifies(
    event_factory, patient, django_capture_on_commit_callbacks
):
    event = event_factory()
    with django_capture_on_commit_callbacks(execute=True):
        rsvp = services.rsvp_create(event=event, user=patient)
    assert rsvp.status == RSVP.Status.CONFIRMED
    event.refresh_from_db()
    assert event.confirmed_count == 1
    notification = Notification.objects.get(recipient=patient)
    assert notification.verb == Verb.RSVP_CONFIRMED
    assert notification.url == event.get_absolute_url()


def test_a_full_event_puts_people_on_the_waitlist_in_order(event_factory, user_factory):
    event = event_factory(capacity=1, attendees=[user_factory()])
    second, third = user_factory(), user_factory()
    assert services.rsvp_create(event=event, user=second).status == RSVP.Status.WAITLISTED
    third_rsvp = services.rsvp_create(event=event, user=third)
    assert third_rsvp.status == RSVP.Status.WAITLISTED
    assert RSVP.objects.get(event=event, user=second).position < third_rsvp.position
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 2)
    assert not Notification.objects.filter(recipient=second).exists()


def _bad_rsvp_cases():
    return [
        ("cancelled", "This event has been cancelled."),
        ("past", "This event is over."),
        ("draft", "This event is not open for sign-up yet."),
        ("full without waitlist", "This event is full and has no waitlist."),
        ("waitlist full", "This event is full and its waitlist is full too."),
        ("second confirmed", "You already have a place at this event."),
        ("second waitlisted", "You are already on the waitlist for this event."),
    ]


@pytest.mark.parametrize(("case", "message"), _bad_rsvp_cases())
def test_bad_rsvps_are_refused_with_a_clear_message_and_change_nothing(
    case, message, event_factory, organiser, user_factory
):
    person = user_factory()
    if case == "cancelled":
        event = event_factory()
        services.event_cancel(event=event, organiser=organiser)
    elif case == "past":
        event = event_factory(when="past")
    elif case == "draft":
        event = event_factory(state=Event.State.DRAFT)
    elif case == "full without waitlist":
        event = event_factory(capacity=1, has_waitlist=False, attendees=[user_factory()])
    elif case == "waitlist full":
        event = event_factory(
            capacity=1, waitlist_limit=1, attendees=[user_factory(), user_factory()]
        )
    elif case == "second confirmed":
        event = event_factory(attendees=[person])
    else:
        event = event_factory(capacity=1, attendees=[user_factory(), person])
    before = snapshot(event)
    with pytest.raises(ValidationError) as error:
        services.rsvp_create(event=event, user=person)
    assert error.value.messages == [message]
    assert snapshot(event) == before


def test_cancelling_promotes_the_first_on_the_waitlist(
    event_factory, user_factory, django_capture_on_commit_callbacks, listen
):
    leaving, first_waiting, second_waiting = user_factory(), user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[leaving, first_waiting, second_waiting])
    received = listen(user_group(first_waiting.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.rsvp_cancel(event=event, user=leaving)
    statuses = dict(RSVP.objects.filter(event=event).values_list("user_id", "status"))
    assert statuses == {
        leaving.pk: RSVP.Status.CANCELLED,
        first_waiting.pk: RSVP.Status.CONFIRMED,
        second_waiting.pk: RSVP.Status.WAITLISTED,
    }
    promoted = Notification.objects.get(recipient=first_waiting)
    assert promoted.verb == Verb.WAITLIST_PROMOTED and promoted.actor is None
    assert not Notification.objects.filter(recipient=second_waiting).exists()
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 1)
    pushed = received()
    assert [m["verb"] for m in pushed] == [Verb.WAITLIST_PROMOTED]
    assert pushed[0]["url"] == event.get_absolute_url()


def test_leaving_the_waitlist_promotes_nobody(event_factory, user_factory):
    confirmed, waiting = user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[confirmed, waiting])
    services.rsvp_cancel(event=event, user=waiting)
    assert RSVP.objects.get(user=confirmed).status == RSVP.Status.CONFIRMED
    assert not Notification.objects.filter(verb=Verb.WAITLIST_PROMOTED).exists()


def test_cancelling_without_a_place_is_refused(event_factory, patient):
    event = event_factory()
    with pytest.raises(ValidationError, match="no place at this event"):
        services.rsvp_cancel(event=event, user=patient)


def test_signing_up_again_after_cancelling(event_factory, patient):
    event = event_factory()
    services.rsvp_create(event=event, user=patient)
    services.rsvp_cancel(event=event, user=patient)
    assert services.rsvp_create(event=event, user=patient).status == RSVP.Status.CONFIRMED
    assert RSVP.objects.filter(event=event, user=patient).count() == 1


def test_a_suspended_member_cannot_take_a_place_or_join_the_waitlist(event_factory, user_factory):
    suspended = user_factory()
    suspended.suspended_until = timezone.now() + timedelta(days=3)
    suspended.save(update_fields=["suspended_until"])
    for event in (event_factory(), event_factory(capacity=1, attendees=[user_factory()])):
        before = snapshot(event)
        with pytest.raises(PermissionDenied, match="suspended until"):
            services.rsvp_create(event=event, user=suspended)
        assert snapshot(event) == before


def test_a_suspended_member_may_still_give_a_place_up(event_factory, patient):
    event = event_factory(attendees=[patient])
    patient.suspended_until = timezone.now() + timedelta(days=3)
    patient.save(update_fields=["suspended_until"])
    services.rsvp_cancel(event=event, user=patient)
    assert RSVP.objects.get(event=event, user=patient).status == RSVP.Status.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_never_exceed_the_capacity(event_factory, user_factory):
    capacity, people_count = 5, 30
    event = event_factory(capacity=capacity, waitlist_limit=10)
    people = [user_factory() for _ in range(people_count)]
    barrier = threading.Barrier(people_count)
    outcomes, errors = [], []

    def sign_up(person):
        try:
            barrier.wait(timeout=30)
            outcomes.append(services.rsvp_create(event=event, user=person).status)
        except ValidationError as error:
            errors.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    event.refresh_from_db()
    confirmed = RSVP.objects.filter(event=event, status=RSVP.Status.CONFIRMED).count()
    waitlisted = RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED).count()
    assert confirmed == capacity == outcomes.count(RSVP.Status.CONFIRMED)
    assert waitlisted == 10 == outcomes.count(RSVP.Status.WAITLISTED)
    assert errors == ["This event is full and its waitlist is full too."] * (people_count - 15)
    assert (event.confirmed_count, event.waitlist_count) == (confirmed, waitlisted)
    positions = list(
        RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED).values_list(
            "position", flat=True
        )
    )
    assert sorted(positions) == list(range(1, 11))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_promote_each_waiting_person_once(event_factory, user_factory):
    leaving = [user_factory() for _ in range(4)]
    waiting = [user_factory() for _ in range(6)]
    event = event_factory(capacity=4, attendees=[*leaving, *waiting])
    barrier = threading.Barrier(len(leaving))

    def cancel(person):
        try:
            barrier.wait(timeout=30)
            services.rsvp_cancel(event=event, user=person)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(person,)) for person in leaving]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    confirmed = set(
        RSVP.objects.filter(event=event, status=RSVP.Status.CONFIRMED).values_list(
            "user_id", flat=True
        )
    )
    assert confirmed == {person.pk for person in waiting[:4]}
    assert Notification.objects.filter(verb=Verb.WAITLIST_PROMOTED).count() == 4


# The live room


def test_asking_in_the_room_sanitises_and_broadcasts(
    event_factory, patient, django_capture_on_commit_callbacks, listen
):
    event = event_factory(when="live", attendees=[patient])
    received = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        question = services.live_question_create(
            event=event,
            author=patient,
            body="Is **ginger** safe? <script>alert(1)</script><img src=x onerror=alert(1)>",
        )
    assert "<strong>ginger</strong>" in question.body_html
    assert "<script" not in question.body_html and "<img" not in question.body_html
    (message,) = received()
    assert message["type"] == live.ROOM_EVENT
    attendee = message["payloads"]["attendee"]["en"]
    assert attendee["type"] == "question" and attendee["id"] == question.pk
    assert attendee["votes"] == 0 and attendee["votes_label"] == "0 votes"
    assert "<strong>ginger</strong>" in attendee["html"] and "<script" not in attendee["html"]
    assert "Mark answered" not in attendee["html"]
    assert "Mark answered" in message["payloads"]["host"]["en"]["html"]
    assert set(message["payloads"]["host"]) == {"en", "zh-hans"}
    json.loads(json.dumps(message))


def test_an_anonymous_question_shows_no_name_in_the_room(
    event_factory, patient, django_capture_on_commit_callbacks, listen
):
    event = event_factory(when="live", attendees=[patient])
    received = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.live_question_create(
            event=event, author=patient, body="A private question, please.", is_anonymous=True
        )
    html = received()[0]["payloads"]["attendee"]["en"]["html"]
    assert "Anonymous patient" in html and "Patient Zhang" not in html


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Call me on 138 0013 8000 after the talk", "looks like a phone number"),
        ("My landline is 010-62345678, thanks", "looks like a phone number"),
        ("ID 11010519491231002X for the records", "looks like a resident ID number"),
        ("Write to zhang.wei@example.com please", "looks like an e-mail address"),
    ],
)
def test_personal_data_is_sent_back_to_remove(event_factory, patient, body, words):
    event = event_factory(when="live", attendees=[patient])
    with pytest.raises(ValidationError) as error:
        services.live_question_create(event=event, author=patient, body=body)
    message = error.value.error_dict["body"][0].messages[0]
    assert words in message and "Please remove the personal data" in message
    assert not LiveQuestion.objects.exists()


@pytest.mark.parametrize("body", ["Too short", "x" * 501])
def test_live_questions_are_kept_short(event_factory, patient, body):
    event = event_factory(when="live", attendees=[patient])
    with pytest.raises(ValidationError) as error:
        services.live_question_create(event=event, author=patient, body=body)
    assert "body" in error.value.error_dict
    assert not LiveQuestion.objects.exists()


def test_asking_too_quickly_is_slowed_down(event_factory, patient, settings):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"salon_question": (2, 600)}
    event = event_factory(when="live", attendees=[patient])
    for number in range(2):
        services.live_question_create(event=event, author=patient, body=f"Question number {number}")
    with pytest.raises(RateLimited):
        services.live_question_create(event=event, author=patient, body="Question number 3")
    assert LiveQuestion.objects.count() == 2


def test_suspended_members_cannot_ask_or_vote(event_factory, user_factory):
    asker, suspended = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, suspended])
    question = services.live_question_create(event=event, author=asker, body="Which foods help?")
    suspended.suspended_until = timezone.now() + timedelta(days=3)
    suspended.save(update_fields=["suspended_until"])
    with pytest.raises(PermissionDenied, match="suspended"):
        services.live_question_create(event=event, author=suspended, body="May I still ask this?")
    with pytest.raises(PermissionDenied, match="suspended"):
        services.live_question_vote(event=event, question=question, user=suspended)
    assert LiveQuestion.objects.count() == 1 and not Vote.objects.exists()


def test_only_confirmed_attendees_ask(event_factory, user_factory):
    waiting, stranger = user_factory(), user_factory()
    event = event_factory(when="live", capacity=1, attendees=[user_factory(), waiting])
    for person in (waiting, stranger):
        with pytest.raises(PermissionDenied):
            services.live_question_create(event=event, author=person, body="May I ask something?")
    assert not LiveQuestion.objects.exists()


def test_questions_may_be_asked_before_the_event_but_not_after(event_factory, patient):
    upcoming = event_factory(attendees=[patient])
    services.live_question_create(event=upcoming, author=patient, body="A question in advance")
    past = event_factory(when="past", attendees=[patient])
    with pytest.raises(ValidationError, match="The event is over"):
        services.live_question_create(event=past, author=patient, body="Too late for this one")


def test_hosts_and_organisers_may_ask_without_a_place(event_factory, host, organiser):
    event = event_factory(when="live")
    services.live_question_create(event=event, author=host, body="Any more questions about diet?")
    services.live_question_create(event=event, author=organiser, body="Please keep questions short")
    assert LiveQuestion.objects.count() == 2


def test_a_question_sent_twice_is_asked_and_broadcast_once(
    event_factory, patient, django_capture_on_commit_callbacks, listen
):
    event = event_factory(when="live", attendees=[patient])
    received = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.live_question_create(event=event, author=patient, body="Which foods help?")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.live_question_create(
            event=event, author=patient, body=" Which  foods help?\n"
        )
    assert again == first and callbacks == []
    assert LiveQuestion.objects.count() == 1 and len(received()) == 1


def test_a_double_click_in_the_room_is_not_counted_by_the_rate_limit(
    event_factory, patient, settings
):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"salon_question": (2, 600)}
    event = event_factory(when="live", attendees=[patient])
    for _click in range(3):
        services.live_question_create(event=event, author=patient, body="Which foods help?")
    services.live_question_create(event=event, author=patient, body="Which foods to avoid?")
    assert LiveQuestion.objects.count() == 2


def test_a_different_question_in_the_room_is_a_new_question(event_factory, patient):
    event = event_factory(when="live", attendees=[patient])
    first = services.live_question_create(event=event, author=patient, body="Which foods help?")
    second = services.live_question_create(event=event, author=patient, body="Which foods hurt?")
    assert first != second and LiveQuestion.objects.count() == 2


def test_the_same_question_after_the_window_is_a_new_question(event_factory, patient):
    event = event_factory(when="live", attendees=[patient])
    first = services.live_question_create(event=event, author=patient, body="Which foods help?")
    LiveQuestion.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - forum_services.DUPLICATE_WINDOW - timedelta(seconds=1)
    )
    second = services.live_question_create(event=event, author=patient, body="Which foods help?")
    assert first != second and LiveQuestion.objects.count() == 2


def test_the_same_question_at_another_event_is_a_new_question(event_factory, patient):
    first_event = event_factory(when="live", attendees=[patient])
    second_event = event_factory(when="live", attendees=[patient])
    first = services.live_question_create(
        event=first_event, author=patient, body="Which foods help?"
    )
    second = services.live_question_create(
        event=second_event, author=patient, body="Which foods help?"
    )
    assert first != second and second.event == second_event


def test_one_vote_per_person(
    event_factory, user_factory, django_capture_on_commit_callbacks, listen
):
    asker, voter = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, voter])
    question = services.live_question_create(event=event, author=asker, body="Which foods help?")
    received = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.live_question_vote(event=event, question=question, user=voter) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert services.live_question_vote(event=event, question=question, user=voter) is False
    question.refresh_from_db()
    assert question.vote_count == 1 and Vote.objects.count() == 1
    messages = received()
    assert len(messages) == 1
    vote = messages[0]["payloads"]["attendee"]["en"]
    assert vote == {"type": "vote", "id": question.pk, "votes": 1, "votes_label": "1 vote"}


def test_a_vote_on_a_question_of_another_event_is_refused(event_factory, user_factory):
    asker, voter = user_factory(), user_factory()
    here = event_factory(when="live", attendees=[asker, voter])
    elsewhere = event_factory(when="live", attendees=[asker, voter])
    question = services.live_question_create(
        event=elsewhere, author=asker, body="Which foods help?"
    )
    with pytest.raises(ValidationError) as error:
        services.live_question_vote(event=here, question=question, user=voter)
    assert error.value.messages == ["That question belongs to another event."]
    question.refresh_from_db()
    assert question.vote_count == 0 and not Vote.objects.exists()


def test_the_host_marks_a_question_answered(
    event_factory, host, patient, django_capture_on_commit_callbacks, listen
):
    event = event_factory(when="live", attendees=[patient])
    question = services.live_question_create(event=event, author=patient, body="Which foods help?")
    received = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.live_question_mark_answered(
            event=event, question=question, user=host, answer="Small meals, often."
        )
    question.refresh_from_db()
    assert question.is_answered and question.answered_by == host
    message = received()[0]["payloads"]["attendee"]["en"]
    assert message["type"] == "answered" and "Small meals, often." in message["html"]


def test_attendees_cannot_mark_questions_answered(event_factory, user_factory):
    asker, other = user_factory(), user_factory()
    event = event_factory(when="live", attendees=[asker, other])
    question = services.live_question_create(event=event, author=asker, body="Which foods help?")
    with pytest.raises(PermissionDenied):
        services.live_question_mark_answered(event=event, question=question, user=other)
    question.refresh_from_db()
    assert not question.is_answered


# The room and the forum


@pytest.fixture
def answered_event(event_factory, host, user_factory):
    """A live event with one answered question, one anonymous answered one and one open one."""
    named, shy = user_factory(name="Named Asker"), user_factory(name="Shy Asker")
    event = event_factory(when="live", attendees=[named, shy])
    first = services.live_question_create(
        event=event, author=named, body="How long does oxaliplatin numbness last?"
    )
    second = services.live_question_create(
        event=event, author=shy, body="Can I drink green tea during chemo?", is_anonymous=True
    )
    services.live_question_create(event=event, author=named, body="Is walking every day good?")
    services.live_question_mark_answered(
        event=event,
        question=first,
        user=host,
        answer="It usually improves over 6 to 12 months after the last cycle.",
    )
    services.live_question_mark_answered(
        event=event,
        question=second,
        user=host,
        answer="In moderation yes; avoid large amounts with some targeted drugs.",
    )
    return event


def test_answered_questions_are_published_only_after_the_event(answered_event, host):
    with pytest.raises(ValidationError, match="once the event is over"):
        services.live_questions_publish(event=answered_event, user=host)
    assert not ForumQuestion.objects.exists()


def test_after_the_event_answered_questions_become_forum_questions(answered_event, host):
    now = timezone.now()
    move_event(answered_event, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    result = services.live_questions_publish(event=answered_event, user=host)
    assert len(result.published) == 2 and result.waiting == 0
    named = ForumQuestion.objects.get(author__name="Named Asker")
    assert named.title == "How long does oxaliplatin numbness last?"
    assert not named.is_anonymous and answered_event.title in named.body
    shy = ForumQuestion.objects.get(author__name="Shy Asker")
    assert shy.is_anonymous
    answer = Answer.objects.get(question=named)
    assert answer.author == host and "6 to 12 months" in answer.body
    assert LiveQuestion.objects.filter(forum_question__isnull=False).count() == 2
    # Each question is published once.
    assert services.live_questions_publish(event=answered_event, user=host).published == []
    assert ForumQuestion.objects.count() == 2


def test_a_question_held_by_the_forum_gets_its_answer_once_approved(
    answered_event, host, organiser, settings
):
    # A new account's first post waits for a moderator, in the forum as everywhere.
    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    now = timezone.now()
    move_event(answered_event, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    result = services.live_questions_publish(event=answered_event, user=host)
    assert result.published == [] and result.held == 2
    held = ForumQuestion.objects.get(author__name="Named Asker")
    assert held.state == PostState.PENDING and not Answer.objects.exists()
    case_approve(case_id=Case.objects.get(object_id=held.pk).pk, moderator=organiser)
    result = services.live_questions_publish(event=answered_event, user=host)
    assert result.published == [held] and result.held == 1
    assert Answer.objects.get().question == held
    assert ForumQuestion.objects.count() == 2


def test_the_same_words_asked_twice_apart_become_two_forum_questions(event_factory, host, patient):
    event = event_factory(when="live", attendees=[patient])
    answer = "It usually improves over 6 to 12 months after the last cycle."
    first = services.live_question_create(event=event, author=patient, body="Will numbness pass?")
    LiveQuestion.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - forum_services.DUPLICATE_WINDOW - timedelta(seconds=1)
    )
    second = services.live_question_create(event=event, author=patient, body="Will numbness pass?")
    for question in (first, second):
        services.live_question_mark_answered(
            event=event, question=question, user=host, answer=answer
        )
    now = timezone.now()
    move_event(event, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    result = services.live_questions_publish(event=event, user=host)
    assert len(result.published) == 2 and len(set(result.published)) == 2
    assert ForumQuestion.objects.count() == 2 and Answer.objects.count() == 2


def test_answers_too_short_for_the_forum_wait(event_factory, host, patient):
    event = event_factory(when="live", attendees=[patient])
    question = services.live_question_create(event=event, author=patient, body="Which foods help?")
    services.live_question_mark_answered(event=event, question=question, user=host, answer="Soup.")
    now = timezone.now()
    move_event(event, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    result = services.live_questions_publish(event=event, user=host)
    assert result.published == [] and result.waiting == 1


def test_attendees_cannot_publish(answered_event):
    attendee = RSVP.objects.filter(event=answered_event).first().user
    with pytest.raises(PermissionDenied):
        services.live_questions_publish(event=answered_event, user=attendee)
