import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import User
from core.ratelimit import RateLimited
from forum import services
from forum.models import Answer, Follow, PostState, Question, Reply, Revision, Tag
from moderation.models import AuditEntry
from notifications.models import Notification, OutgoingEmail, Preference, Verb

pytestmark = pytest.mark.django_db

BODY = "After surgery I am unsure which foods are safe to eat now."


def test_asking_publishes_renders_and_follows(patient, category):
    question = services.question_create(
        author=patient,
        title="What can I eat after a gastrectomy?",
        body="**Bold** " + BODY,
        category=category,
        tags=["Nutrition", "化疗"],
    )
    assert question.state == PostState.PUBLISHED
    assert "<strong>Bold</strong>" in question.body_html
    assert {tag.slug for tag in question.tags.all()} == {"nutrition", "chemotherapy"}
    assert Follow.objects.filter(question=question, user=patient).exists()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("title", {"title": "Too short"}),
        ("title", {"title": "x" * 151}),
        ("body", {"body": "short body"}),
        ("body", {"body": "x" * 10_001}),
        (
            "tags",
            {
                "tags": [
                    "nutrition",
                    "chemotherapy",
                    "immunotherapy",
                    "surgery",
                    "radiotherapy",
                    "side effects",
                ]
            },
        ),
        ("tags", {"tags": ["a tag nobody made"]}),
    ],
)
def test_bad_questions_are_refused_and_nothing_is_stored(patient, category, field, kwargs):
    details = {
        "title": "What can I eat after a gastrectomy?",
        "body": BODY,
        "category": category,
    } | kwargs
    with pytest.raises(ValidationError) as error:
        services.question_create(author=patient, **details)
    assert field in error.value.error_dict
    assert not Question.objects.exists()
    assert Tag.objects.filter(name="a tag nobody made").count() == 0


def test_doctors_may_create_new_tags(doctor, category):
    question = services.question_create(
        author=doctor,
        title="Peritoneal metastasis and PIPAC?",
        body=BODY,
        category=category,
        tags=["PIPAC"],
    )
    assert question.tags.get().name == "PIPAC"


def test_only_verified_doctors_answer(question_factory, patient, doctor_factory):
    question = question_factory()
    with pytest.raises(PermissionDenied):
        services.answer_create(
            question=question, author=patient, body="I think you should rest more often."
        )
    with pytest.raises(PermissionDenied):
        services.answer_create(
            question=question,
            author=doctor_factory(verified=False),
            body="Rest and hydrate, and call us.",
        )
    question.refresh_from_db()
    assert question.answer_count == 0


def test_answer_counts_and_activity_are_kept(question_factory, doctor):
    question = question_factory()
    before = question.last_activity_at
    answer = services.answer_create(
        question=question, author=doctor, body="Rest, hydrate and keep moving a little."
    )
    question.refresh_from_db()
    assert question.answer_count == 1 and question.last_activity_at >= before
    assert question.last_activity_at == answer.created_at


def test_locked_questions_take_no_answers_or_replies(question_factory, doctor, patient):
    question = question_factory()
    Question.objects.filter(pk=question.pk).update(is_locked=True)
    question.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.answer_create(
            question=question, author=doctor, body="Rest, hydrate and keep moving a little."
        )
    with pytest.raises(PermissionDenied):
        services.reply_create(question=question, author=patient, body="Me too")


def test_reply_under_an_answer_of_another_question_is_refused(question_factory, patient):
    first, second = question_factory(answers=1), question_factory()
    answer = first.answers.get()
    with pytest.raises(ValidationError):
        services.reply_create(question=second, answer=answer, author=patient, body="Hello there")
    assert not Reply.objects.filter(question=second).exists()


def test_only_the_asker_accepts(question_factory, patient, user_factory):
    question = question_factory(author=patient, answers=2)
    first, second = question.answers.all()
    with pytest.raises(PermissionDenied):
        services.answer_accept(answer=first, user=user_factory())
    services.answer_accept(answer=first, user=patient)
    services.answer_accept(answer=second, user=patient)
    question.refresh_from_db()
    assert question.accepted_answer == second


def test_second_thank_from_same_user_is_ignored(question_factory, patient):
    answer = question_factory(answers=1).answers.get()
    assert services.answer_thank(answer=answer, user=patient) is True
    assert services.answer_thank(answer=answer, user=patient) is False
    answer.refresh_from_db()
    assert answer.thanks_count == 1
    assert Question.objects.get(pk=answer.question_id).thanks_count == 1


def test_doctors_cannot_thank_themselves(question_factory):
    answer = question_factory(answers=1).answers.get()
    with pytest.raises(ValidationError):
        services.answer_thank(answer=answer, user=answer.author)


def test_editing_keeps_the_previous_version(question_factory, patient, category):
    question = question_factory(author=patient, title="Original title of my question")
    services.question_edit(
        question=question,
        editor=patient,
        title="A clearer title for my question",
        body=BODY,
        category=category,
    )
    revision = Revision.objects.get(object_id=question.pk)
    assert revision.title == "Original title of my question"
    question.refresh_from_db()
    assert question.title == "A clearer title for my question" and question.edited_at


def test_only_the_author_edits(question_factory, user_factory, category):
    question = question_factory()
    with pytest.raises(PermissionDenied):
        services.question_edit(
            question=question,
            editor=user_factory(),
            title="Hijacked title here",
            body=BODY,
            category=category,
        )


def test_deleting_is_soft_and_clears_acceptance(question_factory, patient):
    question = question_factory(author=patient, answers=1)
    answer = question.answers.get()
    services.answer_accept(answer=answer, user=patient)
    services.post_delete(post=answer, user=answer.author)
    question.refresh_from_db()
    answer.refresh_from_db()
    assert answer.deleted_at is not None
    assert question.accepted_answer is None and question.answer_count == 0


def test_others_cannot_delete_but_moderators_can(question_factory, user_factory, moderator):
    question = question_factory()
    with pytest.raises(PermissionDenied):
        services.post_delete(post=question, user=user_factory())
    services.post_delete(post=question, user=moderator)
    assert Question.objects.get(pk=question.pk).deleted_at is not None


def test_follow_and_unfollow(question_factory, user_factory):
    question, reader = question_factory(), user_factory()
    services.question_follow(question=question, user=reader)
    services.question_follow(question=question, user=reader)
    assert Follow.objects.filter(question=question, user=reader).count() == 1
    services.question_unfollow(question=question, user=reader)
    assert not Follow.objects.filter(question=question, user=reader).exists()


def test_inactive_accounts_cannot_ask(user_factory, category):
    user = user_factory()
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.question_create(
            author=user, title="Can I still ask this?", body=BODY, category=category
        )


# Double submits: one post per intent

ANSWER_BODY = "Numbness from oxaliplatin usually eases over six to twelve months."


def long_ago(post) -> None:
    """Move a post back to just before the duplicate window, as if sent then."""
    type(post).objects.filter(pk=post.pk).update(
        created_at=timezone.now() - services.DUPLICATE_WINDOW - timedelta(seconds=1)
    )


def test_a_question_sent_twice_is_asked_and_announced_once(
    patient, category, doctor_factory, django_capture_on_commit_callbacks
):
    keen = doctor_factory(specialties=[category])
    Preference.objects.create(user=keen, verb=Verb.SPECIALTY_QUESTION, in_app=True, email=False)
    details = {"title": "What can I eat after a gastrectomy?", "body": BODY, "category": category}
    first = services.question_create(author=patient, **details)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.question_create(
            author=patient, **details | {"body": f"  {BODY}\n", "title": f" {details['title']}"}
        )
    assert again == first and callbacks == []
    assert Question.objects.count() == 1 and Follow.objects.count() == 1
    assert Notification.objects.filter(recipient=keen).count() == 1


def test_an_answer_sent_twice_is_one_answer_and_one_notification(
    question_factory, patient, doctor, django_capture_on_commit_callbacks
):
    question = question_factory(author=patient)
    with django_capture_on_commit_callbacks(execute=True) as first_callbacks:
        first = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    assert first_callbacks and callbacks == []
    assert again == first and Answer.objects.count() == 1
    assert Notification.objects.filter(recipient=patient, verb=Verb.ANSWER).count() == 1
    question.refresh_from_db()
    assert question.answer_count == 1


def test_a_reply_sent_twice_is_one_reply_and_one_notification(question_factory, user_factory):
    question = question_factory(answers=1)
    answer, replier = question.answers.get(), user_factory()
    first = services.reply_create(
        question=question, answer=answer, author=replier, body="Thank you, doctor"
    )
    again = services.reply_create(
        question=question, answer=answer, author=replier, body="Thank you,   doctor"
    )
    assert again == first and Reply.objects.count() == 1
    assert Notification.objects.filter(recipient=answer.author, verb=Verb.REPLY).count() == 1


def test_the_same_reply_in_another_place_is_a_new_reply(question_factory, user_factory):
    question = question_factory(answers=1)
    answer, replier = question.answers.get(), user_factory()
    under_answer = services.reply_create(
        question=question, answer=answer, author=replier, body="Thank you"
    )
    under_question = services.reply_create(question=question, author=replier, body="Thank you")
    assert under_answer != under_question and Reply.objects.count() == 2


def test_a_different_body_is_a_new_answer(question_factory, doctor):
    question = question_factory()
    first = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    second = services.answer_create(
        question=question, author=doctor, body=f"{ANSWER_BODY} Tell your oncologist too."
    )
    assert first != second and Answer.objects.count() == 2


def test_the_same_answer_after_the_window_is_a_new_answer(question_factory, patient, doctor):
    question = question_factory(author=patient)
    first = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    long_ago(first)
    second = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    assert first != second and Answer.objects.count() == 2
    assert Notification.objects.filter(recipient=patient, verb=Verb.ANSWER).count() == 2


def test_the_same_answer_after_deleting_the_first_is_a_new_answer(question_factory, doctor):
    question = question_factory()
    first = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    services.post_delete(post=first, user=doctor)
    second = services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
    assert first != second and Answer.objects.live().get() == second


def test_the_same_words_from_someone_else_are_their_own_answer(question_factory, doctor_factory):
    question = question_factory()
    first = services.answer_create(question=question, author=doctor_factory(), body=ANSWER_BODY)
    second = services.answer_create(question=question, author=doctor_factory(), body=ANSWER_BODY)
    assert first != second and Answer.objects.count() == 2


def test_a_double_click_is_not_counted_by_the_rate_limit(question_factory, user_factory, settings):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"reply": (2, 600)}
    question, replier = question_factory(), user_factory()
    for _click in range(3):
        services.reply_create(question=question, author=replier, body="Same here")
    services.reply_create(question=question, author=replier, body="And one more thing")
    with pytest.raises(RateLimited):
        services.reply_create(question=question, author=replier, body="A third reply")
    assert Reply.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_answer_sent_twice_at_once_is_stored_once(question_factory, patient, doctor):
    question = question_factory(author=patient)
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def submit():
        try:
            barrier.wait(timeout=30)
            answers.append(
                services.answer_create(question=question, author=doctor, body=ANSWER_BODY)
            )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and len(answers) == 2
    assert answers[0].pk == answers[1].pk == Answer.objects.get().pk
    assert Notification.objects.filter(recipient=patient, verb=Verb.ANSWER).count() == 1
    question.refresh_from_db()
    assert question.answer_count == 1


# Duplicates


@pytest.fixture
def answered(question_factory):
    return question_factory(title="Numb fingers after oxaliplatin: will it pass?", answers=1)


def test_physician_marks_a_duplicate_and_the_asker_hears_once(
    question_factory, answered, doctor, patient, django_capture_on_commit_callbacks
):
    question = question_factory(author=patient, title="My hands tingle after XELOX, is it normal?")
    with django_capture_on_commit_callbacks(execute=True):
        services.question_duplicate_mark(question=question, original=answered, by=doctor)
        services.question_duplicate_mark(question=question, original=answered, by=doctor)
    question.refresh_from_db()
    assert question.duplicate_of == answered
    assert question.duplicate_marked_by == doctor
    assert question.duplicate_marked_at is not None
    notification = Notification.objects.get(verb=Verb.DUPLICATE_MARKED)
    assert notification.recipient == patient
    assert notification.url == question.get_absolute_url()
    assert notification.data["original"] == answered.title
    assert notification.data["actor"] == "Dr. Wang"
    assert OutgoingEmail.objects.filter(verb=Verb.DUPLICATE_MARKED, recipient=patient).count() == 1
    entry = AuditEntry.objects.get()
    assert (entry.moderator, entry.action, entry.object_id) == (
        doctor,
        "duplicate_mark",
        question.pk,
    )
    assert entry.reason == f"#{answered.pk}"


def test_a_moderator_is_named_as_a_moderator(question_factory, answered, moderator, patient):
    question = question_factory(author=patient)
    services.question_duplicate_mark(question=question, original=answered, by=moderator)
    actor = Notification.objects.get(verb=Verb.DUPLICATE_MARKED).data["actor"]
    assert actor == {"en": "A moderator", "zh-hans": "一位管理员"}


@pytest.mark.parametrize("who", ["patient", "unverified", "anonymous"])
def test_only_physicians_and_moderators_mark_duplicates(
    question_factory, answered, user_factory, doctor_factory, who
):
    question = question_factory()
    by = {
        "patient": lambda: user_factory(),
        "unverified": lambda: doctor_factory(verified=False),
        "anonymous": AnonymousUser,
    }[who]()
    with pytest.raises(PermissionDenied):
        services.question_duplicate_mark(question=question, original=answered, by=by)
    question.refresh_from_db()
    assert question.duplicate_of is None
    assert not Notification.objects.filter(verb=Verb.DUPLICATE_MARKED).exists()
    assert not AuditEntry.objects.exists()


def test_a_suspended_physician_cannot_mark(question_factory, answered, doctor):
    doctor.suspended_until = timezone.now() + timedelta(days=3)
    doctor.save(update_fields=["suspended_until"])
    with pytest.raises(PermissionDenied):
        services.question_duplicate_mark(question=question_factory(), original=answered, by=doctor)


def test_the_original_must_be_answered_published_and_another_question(
    question_factory, answered, doctor
):
    question = question_factory()
    unanswered = question_factory()
    hidden = question_factory(answers=1)
    Question.objects.filter(pk=hidden.pk).update(state=PostState.HIDDEN)
    deleted = question_factory(answers=1)
    services.post_delete(post=deleted, user=deleted.author)
    pending_answer_only = question_factory()
    Answer.objects.create(
        question=pending_answer_only,
        author=doctor,
        body="Held for review",
        body_html="",
        state=PostState.PENDING,
    )
    for original in (question, unanswered, hidden, deleted, pending_answer_only):
        with pytest.raises(ValidationError) as refused:
            services.question_duplicate_mark(question=question, original=original, by=doctor)
        assert "original" in refused.value.error_dict
    question.refresh_from_db()
    assert question.duplicate_of is None
    assert not AuditEntry.objects.exists()


def test_an_original_that_is_a_duplicate_is_followed_to_its_own(question_factory, answered, doctor):
    middle = question_factory(answers=1)
    services.question_duplicate_mark(question=middle, original=answered, by=doctor)
    question = question_factory()
    services.question_duplicate_mark(question=question, original=middle, by=doctor)
    question.refresh_from_db()
    assert question.duplicate_of == answered


def test_a_loop_is_refused(question_factory, answered, doctor):
    question = question_factory(answers=1)
    services.question_duplicate_mark(question=question, original=answered, by=doctor)
    with pytest.raises(ValidationError):
        services.question_duplicate_mark(question=answered, original=question, by=doctor)
    answered.refresh_from_db()
    assert answered.duplicate_of is None


def test_marking_an_original_moves_its_duplicates_along(
    question_factory, answered, doctor, moderator
):
    first = question_factory(answers=1)
    pointing = question_factory()
    services.question_duplicate_mark(question=pointing, original=first, by=doctor)
    services.question_duplicate_mark(question=first, original=answered, by=doctor)
    pointing.refresh_from_db()
    assert pointing.duplicate_of == answered


def test_only_a_moderator_points_a_duplicate_elsewhere(
    question_factory, answered, doctor, doctor_factory, moderator
):
    question = question_factory()
    other = question_factory(answers=1)
    services.question_duplicate_mark(question=question, original=answered, by=doctor)
    with pytest.raises(PermissionDenied):
        services.question_duplicate_mark(question=question, original=other, by=doctor_factory())
    services.question_duplicate_mark(question=question, original=other, by=moderator)
    question.refresh_from_db()
    assert (question.duplicate_of, question.duplicate_marked_by) == (other, moderator)


def test_a_held_question_cannot_be_marked(question_factory, answered, moderator):
    question = question_factory()
    Question.objects.filter(pk=question.pk).update(state=PostState.PENDING)
    question.refresh_from_db()
    with pytest.raises(ValidationError):
        services.question_duplicate_mark(question=question, original=answered, by=moderator)


def test_a_moderator_or_the_marking_physician_undoes(
    question_factory, answered, doctor, doctor_factory, moderator, patient
):
    question = question_factory(author=patient)
    services.question_duplicate_mark(question=question, original=answered, by=doctor)
    for stranger in (patient, doctor_factory()):
        with pytest.raises(PermissionDenied):
            services.question_duplicate_unmark(question=question, by=stranger)
    services.question_duplicate_unmark(question=question, by=moderator)
    services.question_duplicate_unmark(question=question, by=moderator)  # twice: no change
    question.refresh_from_db()
    assert (question.duplicate_of, question.duplicate_marked_by) == (None, None)
    assert question.duplicate_marked_at is None
    undo = AuditEntry.objects.get(action="duplicate_unmark")
    assert (undo.moderator, undo.object_id, undo.reason) == (
        moderator,
        question.pk,
        f"#{answered.pk}",
    )
    services.question_duplicate_mark(question=question, original=answered, by=doctor)
    services.question_duplicate_unmark(question=question, by=doctor)
    question.refresh_from_db()
    assert question.duplicate_of is None
    assert Notification.objects.filter(verb=Verb.DUPLICATE_MARKED).count() == 2


def test_duplicates_are_not_waiting_for_a_physician(question_factory, answered, doctor):
    from forum import selectors

    question = question_factory()
    assert selectors.unanswered_count() == 1
    services.question_duplicate_mark(question=question, original=answered, by=doctor)
    assert selectors.unanswered_count() == 0
    assert selectors.unanswered_for_doctor(doctor=doctor) == []
    unanswered = selectors.question_list(viewer=doctor, status="unanswered")
    assert question not in unanswered
    assert question in selectors.question_list(viewer=doctor, status="answered")
