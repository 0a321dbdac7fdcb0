"""A new question reaches the right physician: the day on duty, the specialty, the group passed to.

The department's duty day runs midnight to midnight in Asia/Shanghai,
whatever the asker's own time zone. The clock is Django's
``timezone.now``, set by the ``clock`` fixture; nothing of ours is replaced.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import PhysicianProfile
from duty.models import Holiday, Pass, Routing, Shift, TumourGroup
from duty.services import department_day
from forum.models import Category, PostState, Question
from moderation.models import Case
from moderation.services import case_approve
from notifications.models import Notification, OutgoingEmail, Verb
from notifications.services import preferences_save

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SUNDAY = date(2026, 3, 8)
MONDAY = date(2026, 3, 9)
TUESDAY = date(2026, 3, 10)
WEDNESDAY = date(2026, 3, 11)


class Clock:
    """The time every ``timezone.now()`` reads while a test has set it."""

    def __init__(self):
        self.moment: datetime | None = None

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: clock.moment or real_now())
    return clock


@pytest.fixture
def group(category):
    return TumourGroup.objects.select_related("category").get(category=category)


@pytest.fixture
def gist():
    return TumourGroup.objects.select_related("category").get(category__slug="gist")


@pytest.fixture
def roster(doctor_factory, category, group):
    """Colorectal's physicians on Sunday, Monday and Tuesday; a gastric colleague on Monday."""
    people = {
        day: doctor_factory(name=f"Dr. {day:%A}", specialties=[category])
        for day in (SUNDAY, MONDAY, TUESDAY)
    }
    for day, physician in people.items():
        Shift.objects.create(group=group, day=day, physician=physician)
    gastric = TumourGroup.objects.get(category__slug="gastric-cancer")
    gastric_physician = doctor_factory(name="Dr. Gastric", specialties=[gastric.category])
    Shift.objects.create(group=gastric, day=MONDAY, physician=gastric_physician)
    return people


def told(verb=Verb.DUTY_QUESTION) -> set[int]:
    return set(Notification.objects.filter(verb=verb).values_list("recipient_id", flat=True))


def ids(*people) -> set[int]:
    return {person.pk for person in people}


# The duty day, around midnight in Shanghai and seen from elsewhere


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # 23:59:59 on Monday in Shanghai is still Monday's shift...
        (datetime(2026, 3, 9, 15, 59, 59, tzinfo=UTC), MONDAY),
        # ...and a second later it is Tuesday's.
        (datetime(2026, 3, 9, 16, 0, 0, tzinfo=UTC), TUESDAY),
        # Midnight starting Monday in Shanghai, the last second of Sunday before it.
        (datetime(2026, 3, 8, 16, 0, 0, tzinfo=UTC), MONDAY),
        (datetime(2026, 3, 8, 15, 59, 59, tzinfo=UTC), SUNDAY),
        # Monday morning in California is already Tuesday in Shanghai.
        (datetime(2026, 3, 9, 9, 30, tzinfo=LOS_ANGELES), TUESDAY),
        (datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI), TUESDAY),
    ],
    ids=["mon-23:59:59", "tue-00:00:00", "mon-00:00:00", "sun-23:59:59", "la-morning", "sh-zone"],
)
def test_a_question_goes_to_the_physician_on_duty_that_day_in_shanghai(
    clock, roster, question_factory, category, moment, day
):
    clock.set(moment)
    question = question_factory(category=category)
    routing = Routing.objects.get(question=question)
    assert routing.published_at == moment
    assert routing.on_duty == roster[day]
    assert told() == ids(roster[day])
    # The colleagues of the specialty hear as before, once, not of the duty.
    others = ids(*roster.values()) - ids(roster[day])
    assert told(Verb.SPECIALTY_QUESTION) == others


def test_an_asker_in_los_angeles_is_routed_by_the_department_day_and_told_in_their_time(
    clock, roster, client, patient, category
):
    # 09:30 on Monday in Los Angeles is 00:30 on Tuesday in Shanghai.
    moment = datetime(2026, 3, 9, 16, 30, tzinfo=UTC)
    clock.set(moment)
    patient.timezone = "America/Los_Angeles"
    patient.save(update_fields=["timezone"])
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
    question = Question.objects.get(author=patient)
    assert question.routing.on_duty == roster[TUESDAY]
    assert told() == ids(roster[TUESDAY])
    # 48 hours on: 09:30 on Wednesday in Los Angeles (00:30 on Thursday in Shanghai).
    assert "expect a first answer by 2026-03-11 09:30 (your time)" in response.content.decode()


# Nobody on duty: the whole specialty hears


@pytest.fixture
def bystanders(doctor_factory, user_factory, category):
    """People of the specialty who must not be told: unverified, and a closed account."""
    pending = doctor_factory(verified=False, name="Dr. Pending", specialties=[category])
    closed = doctor_factory(name="Dr. Left", specialties=[category])
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    return [pending, closed]


def test_on_a_holiday_every_verified_physician_of_the_specialty_is_told(
    clock, roster, bystanders, question_factory, category
):
    Holiday.objects.create(day=MONDAY, name="Department away day")
    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    question = question_factory(category=category)
    assert Routing.objects.get(question=question).on_duty is None
    assert told() == ids(*roster.values())
    assert not told(Verb.SPECIALTY_QUESTION)  # nobody hears twice
    assert set(
        OutgoingEmail.objects.filter(verb=Verb.DUTY_QUESTION).values_list("to", flat=True)
    ) == {physician.email for physician in roster.values()}


def test_on_a_day_nobody_is_on_duty_every_verified_physician_of_the_specialty_is_told(
    clock, roster, bystanders, question_factory, category
):
    clock.set(datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI))  # Wednesday: no shift
    question = question_factory(category=category)
    assert Routing.objects.get(question=question).on_duty is None
    assert told() == ids(*roster.values())


@pytest.mark.parametrize("change", ["refused", "pending", "inactive", "suspended"])
def test_a_rostered_physician_no_longer_verified_or_active_is_passed_over(
    clock, roster, question_factory, category, change
):
    monday = roster[MONDAY]
    if change == "inactive":
        monday.is_active = False
        monday.save(update_fields=["is_active"])
    elif change == "suspended":  # by a moderator, until after the question is asked
        monday.suspended_until = datetime(2026, 3, 12, tzinfo=SHANGHAI)
        monday.save(update_fields=["suspended_until"])
    else:
        PhysicianProfile.objects.filter(user=monday).update(status=change)
    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    question = question_factory(category=category)
    assert Routing.objects.get(question=question).on_duty is None
    assert told() == ids(roster[SUNDAY], roster[TUESDAY])


# How the physician on duty hears of it


@pytest.fixture
def on_duty(doctor_factory, category, group):
    physician = doctor_factory(name="Dr. Zhao", specialties=[category])
    Shift.objects.create(group=group, day=department_day(), physician=physician)
    return physician


def test_the_physician_on_duty_is_told_in_app_and_by_email(
    on_duty,
    doctor_factory,
    question_factory,
    category,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    colleague = doctor_factory(name="Dr. Qian", specialties=[category])
    with django_capture_on_commit_callbacks(execute=True):
        question = question_factory(category=category, title="Bleeding after a colonoscopy")
    (bell,) = Notification.objects.filter(recipient=on_duty, verb=Verb.DUTY_QUESTION)
    assert bell.url == question.get_absolute_url()
    assert bell.data["title"] == "Bleeding after a colonoscopy"
    (email,) = OutgoingEmail.objects.filter(recipient=on_duty)
    assert email.verb == Verb.DUTY_QUESTION and email.to == on_duty.email
    # Sent by the (inline) task after the commit.
    assert [message.to for message in mailoutbox] == [[on_duty.email]]
    assert "Bleeding after a colonoscopy" in mailoutbox[0].subject
    # The colleague is told in the app only, as they chose by default.
    assert Notification.objects.filter(recipient=colleague, verb=Verb.SPECIALTY_QUESTION).exists()
    assert not OutgoingEmail.objects.filter(recipient=colleague).exists()


def test_a_physician_on_duty_who_turned_email_off_is_told_in_app_only(
    on_duty, question_factory, category
):
    preferences_save(user=on_duty, choices={Verb.DUTY_QUESTION: (True, False)})
    question_factory(category=category)
    assert Notification.objects.filter(recipient=on_duty, verb=Verb.DUTY_QUESTION).count() == 1
    assert not OutgoingEmail.objects.filter(recipient=on_duty).exists()


def test_a_question_outside_the_tumour_groups_is_not_routed(
    on_duty, doctor_factory, question_factory
):
    general = Category.objects.get(slug="living-with-cancer")
    everyone = doctor_factory(name="Dr. Everything")  # every specialty
    question = question_factory(category=general)
    routing = Routing.objects.get(question=question)
    assert routing.group is None and routing.on_duty is None
    assert not told()
    assert not OutgoingEmail.objects.filter(verb=Verb.DUTY_QUESTION).exists()
    assert told(Verb.SPECIALTY_QUESTION) == ids(everyone)


# A held question's clock starts when a moderator publishes it


def test_a_held_question_starts_its_clock_and_goes_to_duty_when_published(
    clock, settings, roster, client, patient, moderator, category
):
    from forum import services as forum

    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    asked = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)  # Monday
    clock.set(asked)
    question = forum.question_create(
        author=patient,
        title="Can I eat normally after a stoma?",
        body="My father has a new stoma after colorectal surgery; what can he eat?",
        category=category,
    )
    assert question.state == PostState.PENDING
    assert not Routing.objects.filter(question=question).exists()
    assert not told()

    published = datetime(2026, 3, 10, 11, 0, tzinfo=SHANGHAI)  # Tuesday, 25 hours on
    clock.set(published)
    case = Case.objects.get(
        content_type=ContentType.objects.get_for_model(Question), object_id=question.pk
    )
    case_approve(case_id=case.pk, moderator=moderator)

    routing = Routing.objects.get(question=question)
    assert routing.published_at == published
    assert routing.due_at == published + timedelta(hours=48)
    assert routing.on_duty == roster[TUESDAY]
    assert told() == ids(roster[TUESDAY])
    client.force_login(patient)
    page = client.get(question.get_absolute_url()).content.decode()
    assert "expect a first answer by 2026-03-12 11:00 (your time)" in page


# Passing a question to another group


@pytest.fixture
def gist_on_duty(doctor_factory, gist):
    physician = doctor_factory(name="Dr. Sun", specialties=[gist.category])
    Shift.objects.create(group=gist, day=department_day(), physician=physician)
    return physician


def pass_url(question) -> str:
    return reverse("duty:pass", args=[question.pk])


def test_a_pass_moves_the_question_and_tells_the_other_groups_physician_on_duty(
    client, on_duty, gist, gist_on_duty, doctor_factory, question_factory, category
):
    gist_colleague = doctor_factory(name="Dr. Ma", specialties=[gist.category])
    question = question_factory(category=category, title="A 4 cm stomach wall tumour")
    client.force_login(on_duty)
    client.post(reverse("duty:claim", args=[question.pk]))

    response = client.post(
        pass_url(question), {"group": gist.pk, "note": "A stromal tumour: yours."}, follow=True
    )

    assert f"The question is now in {gist.category.label}" in response.content.decode()
    question.refresh_from_db()
    assert question.category == gist.category
    routing = Routing.objects.get(question=question)
    assert (routing.group, routing.on_duty, routing.claimed_by) == (gist, gist_on_duty, None)
    (passed,) = Pass.objects.all()
    assert (passed.from_group.category, passed.to_group, passed.by) == (category, gist, on_duty)
    assert passed.note == "A stromal tumour: yours."
    (bell,) = Notification.objects.filter(verb=Verb.DUTY_PASSED)
    assert bell.recipient == gist_on_duty and bell.data["note"] == "A stromal tumour: yours."
    assert OutgoingEmail.objects.filter(recipient=gist_on_duty, verb=Verb.DUTY_PASSED).exists()
    assert not Notification.objects.filter(recipient=gist_colleague).exists()
    # It waits at the top of their home page now.
    client.force_login(gist_on_duty)
    home = client.get("/").content.decode()
    assert "A 4 cm stomach wall tumour" in home[home.index("On duty today") :]


def test_a_pass_to_a_group_with_nobody_on_duty_tells_its_whole_specialty(
    client, on_duty, gist, doctor_factory, question_factory, category
):
    gist_people = [
        doctor_factory(name=f"Dr. Gist {n}", specialties=[gist.category]) for n in range(2)
    ]
    question = question_factory(category=category)
    client.force_login(on_duty)
    client.post(pass_url(question), {"group": gist.pk, "note": ""})
    assert told(Verb.DUTY_PASSED) == ids(*gist_people)
    assert Routing.objects.get(question=question).on_duty is None


def test_a_moderator_may_pass_a_question_too(
    client, moderator, gist, gist_on_duty, question_factory
):
    question = question_factory()
    client.force_login(moderator)
    client.post(pass_url(question), {"group": gist.pk, "note": "Wrong topic."})
    assert Question.objects.get(pk=question.pk).category == gist.category
    assert told(Verb.DUTY_PASSED) == ids(gist_on_duty)


@pytest.mark.parametrize(
    ("who", "data", "status", "error"),
    [
        ("physician", {"group": "999999"}, 404, None),
        ("physician", {"group": "same"}, 302, "The question is already in that group."),
        (
            "physician",
            {"group": "gist", "note": "x" * 1001},
            302,
            "Ensure this value has at most 1000 characters (it has 1001).",
        ),
        ("physician", {"group": "abc"}, 302, "This is not a valid id."),
        ("patient", {"group": "gist", "note": "Not colorectal"}, 302, "Only verified physicians"),
        ("pending physician", {"group": "gist"}, 302, "Only verified physicians"),
        ("visitor", {"group": "gist"}, 302, None),
    ],
    ids=["unknown-group", "same-group", "long-note", "not-an-id", "patient", "pending", "visitor"],
)
def test_a_refused_pass_changes_nothing_and_says_why(
    client,
    on_duty,
    patient,
    pending_physician,
    gist,
    gist_on_duty,
    group,
    question_factory,
    category,
    who,
    data,
    status,
    error,
):
    question = question_factory(category=category)
    people = {"physician": on_duty, "patient": patient, "pending physician": pending_physician.user}
    if who in people:
        client.force_login(people[who])
    data = {**data, "group": {"same": group.pk, "gist": gist.pk}.get(data["group"], data["group"])}

    response = client.post(pass_url(question), data)

    assert response.status_code == status
    if who == "visitor":
        assert response["Location"].startswith(reverse("account_login"))
    if error is not None:
        assert response["Location"] == question.get_absolute_url()
        page = client.get(response["Location"]).content.decode()
        assert error in page.replace("&#x27;", "'")
    assert Question.objects.get(pk=question.pk).category == category
    assert Routing.objects.get(question=question).group == group
    assert not Pass.objects.exists()
    assert not told(Verb.DUTY_PASSED)


def test_a_suspended_physician_cannot_pass_a_question(
    client, on_duty, gist, gist_on_duty, question_factory, category
):
    on_duty.suspended_until = timezone.now() + timedelta(days=3)
    on_duty.save(update_fields=["suspended_until"])
    question = question_factory(category=category)
    client.force_login(on_duty)
    response = client.post(pass_url(question), {"group": gist.pk, "note": "Not ours."}, follow=True)
    page = response.content.decode()
    assert "Your account is suspended until" in page and "its physicians have been told" not in page
    assert Question.objects.get(pk=question.pk).category == category
    assert not Pass.objects.exists()
    assert not told(Verb.DUTY_PASSED)


def test_passing_needs_a_post(client, on_duty, gist, question_factory, category):
    question = question_factory(category=category)
    client.force_login(on_duty)
    assert client.get(pass_url(question), {"group": gist.pk}).status_code == 405
    assert Question.objects.get(pk=question.pk).category == category
