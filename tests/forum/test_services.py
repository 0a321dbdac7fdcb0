import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from forum import services
from forum.models import Follow, PostState, Question, Reply, Revision, Tag

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
