from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.ratelimit import RateLimited
from forum import services as forum
from forum.models import PostState, Question, Revision
from moderation import services
from moderation.models import AuditEntry, BlockedTerm, Case
from notifications.models import Notification, Verb

pytestmark = pytest.mark.django_db

PHONE_BODY = "Please call me on 13812345678 to discuss my mother's chemotherapy plan."


def ask(
    author,
    category,
    body="I have a question about fatigue after each chemotherapy cycle.",
    **kwargs,
):
    return forum.question_create(
        author=author, title="A question about my treatment", body=body, category=category, **kwargs
    )


def case_of(post) -> Case:
    from django.contrib.contenttypes.models import ContentType

    return Case.objects.get(
        content_type=ContentType.objects.get_for_model(post),
        object_id=post.pk,
        resolved_at__isnull=True,
    )


def test_personal_data_holds_a_post_and_says_why(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    assert question.state == PostState.PENDING
    assert (
        "13812345678" in question.moderation_reason and "phone number" in question.moderation_reason
    )
    assert case_of(question).reasons == ["personal_data"]
    assert Notification.objects.filter(recipient=moderator, verb=Verb.QUEUE_ITEM).count() == 1
    # Nobody else hears of a held post.
    assert not Notification.objects.exclude(verb=Verb.QUEUE_ITEM).exists()


def test_a_new_accounts_first_post_is_held(settings, patient, category):
    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    first = ask(patient, category)
    assert first.state == PostState.PENDING and case_of(first).reasons == ["first_posts"]


def test_verified_doctors_first_posts_are_not_held(settings, doctor, category):
    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    assert ask(doctor, category).state == PostState.PUBLISHED


def test_links_from_new_accounts_are_held(patient, category, settings):
    question = ask(
        patient, category, body="Is this article trustworthy? https://miracle.example/cure"
    )
    assert question.state == PostState.PENDING and "links" in case_of(question).reasons
    settings.SHUKANG_NEW_ACCOUNT_DAYS = 0
    assert (
        ask(patient, category, body="Is this article trustworthy? https://ok.example/read").state
        == PostState.PUBLISHED
    )


def test_word_list_holds(patient, category, moderator):
    services.blocked_term_add(term="miracle cure", moderator=moderator)
    question = ask(
        patient, category, body="Someone sold my father a Miracle Cure powder; is it safe?"
    )
    assert question.state == PostState.PENDING and case_of(question).reasons == ["terms"]


def test_approve_publishes_notifies_and_logs(patient, category, moderator, user_factory):
    question = ask(patient, category, body=PHONE_BODY)
    case = case_of(question)
    services.case_approve(case_id=case.pk, moderator=moderator)
    question.refresh_from_db()
    assert question.state == PostState.PUBLISHED
    assert Notification.objects.filter(recipient=patient, verb=Verb.POST_APPROVED).exists()
    entry = AuditEntry.objects.get()
    assert (entry.moderator, entry.action, entry.object_id) == (moderator, "approve", question.pk)


def test_reject_keeps_it_private_and_tells_the_author(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    services.case_reject(
        case_id=case_of(question).pk, moderator=moderator, reason="Please remove your phone number."
    )
    question.refresh_from_db()
    assert (
        question.state == PostState.REJECTED
        and question.moderation_reason == "Please remove your phone number."
    )
    notification = Notification.objects.get(recipient=patient, verb=Verb.POST_REJECTED)
    assert notification.data["reason"] == "Please remove your phone number."


def test_redact_and_approve_keeps_the_original_as_a_revision(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    services.case_redact_and_approve(
        case_id=case_of(question).pk,
        moderator=moderator,
        body="Please call me on [removed] to discuss the plan.",
    )
    question.refresh_from_db()
    assert question.state == PostState.PUBLISHED and "13812345678" not in question.body_html
    assert Revision.objects.get(object_id=question.pk).body == PHONE_BODY
    assert AuditEntry.objects.get().action == "redact_approve"


def test_a_redaction_is_marked_as_a_moderators_edit_not_the_authors(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    services.case_redact_and_approve(
        case_id=case_of(question).pk, moderator=moderator, body="Please call me to discuss it."
    )
    question.refresh_from_db()
    assert question.redacted_at is not None and question.edited_at is None
    assert Revision.objects.get(object_id=question.pk).editor == moderator


def test_redaction_fixes_a_questions_title_and_keeps_the_old_one(patient, category, moderator):
    question = forum.question_create(
        author=patient, title="Call me on 13812345678 please", body=PHONE_BODY, category=category
    )
    services.case_redact_and_approve(
        case_id=case_of(question).pk,
        moderator=moderator,
        title="A question about my mother's plan",
        body="Please call me to discuss my mother's chemotherapy plan.",
    )
    question.refresh_from_db()
    assert question.title == "A question about my mother's plan"
    assert "13812345678" not in question.slug and "13812345678" not in question.search_document
    revision = Revision.objects.get(object_id=question.pk)
    assert (revision.title, revision.body) == ("Call me on 13812345678 please", PHONE_BODY)
    approved = Notification.objects.get(recipient=patient, verb=Verb.POST_APPROVED)
    assert approved.data["title"] == "A question about my mother's plan"


def test_a_redacted_title_must_still_be_a_title(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    with pytest.raises(ValidationError):
        services.case_redact_and_approve(
            case_id=case_of(question).pk, moderator=moderator, title="Short", body="Fine text."
        )
    assert Question.objects.get(pk=question.pk).state == PostState.PENDING


def test_only_a_question_has_a_title_to_redact(question_factory, user_factory, moderator):
    from forum.models import Answer

    answer = question_factory(answers=1).answers.get()
    services.post_flag(post=answer, user=user_factory(), reason="personal_data")
    with pytest.raises(ValidationError, match="Only a question"):
        services.case_redact_and_approve(
            case_id=case_of(answer).pk,
            moderator=moderator,
            title="A title for an answer",
            body="Shorter answer.",
        )
    assert Answer.objects.get(pk=answer.pk).redacted_at is None


def test_moderators_hear_of_a_queue_item_in_their_own_language(patient, category, moderator):
    from django.utils import translation

    from notifications.texts import notification_text

    ask(patient, category, body=PHONE_BODY)
    notification = Notification.objects.get(recipient=moderator, verb=Verb.QUEUE_ITEM)
    with translation.override("zh-hans"):
        chinese = notification_text(notification.verb, notification.data)
    with translation.override("en"):
        english = notification_text(notification.verb, notification.data)
    assert chinese == "待审核队列有新内容：问题 “A question about my treatment”"
    assert english == "New in the moderation queue: question “A question about my treatment”"


def test_a_decided_case_is_not_decided_twice(patient, category, moderator, user_factory):
    other = user_factory(role="moderator")
    question = ask(patient, category, body=PHONE_BODY)
    case = case_of(question)
    services.case_approve(case_id=case.pk, moderator=moderator)
    with pytest.raises(ValidationError, match="already handled"):
        services.case_reject(case_id=case.pk, moderator=other, reason="too late")
    assert AuditEntry.objects.count() == 1
    assert Question.objects.get(pk=question.pk).state == PostState.PUBLISHED


def test_a_decision_on_a_changed_post_is_refused(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    seen = services.version_of(question)
    forum.question_edit(
        question=question,
        editor=patient,
        title=question.title,
        body=PHONE_BODY + " Thanks.",
        category=category,
    )
    with pytest.raises(ValidationError, match="changed after you opened it"):
        services.case_approve(case_id=case_of(question).pk, moderator=moderator, seen_version=seen)
    assert Question.objects.get(pk=question.pk).state == PostState.PENDING


def test_rejected_post_edited_goes_back_to_pending(patient, category, moderator):
    question = ask(patient, category, body=PHONE_BODY)
    services.case_reject(
        case_id=case_of(question).pk, moderator=moderator, reason="Remove the number"
    )
    forum.question_edit(
        question=Question.objects.get(pk=question.pk),
        editor=patient,
        title=question.title,
        body="I removed my number. Can we discuss my mother's chemotherapy plan?",
        category=category,
    )
    question.refresh_from_db()
    assert question.state == PostState.PENDING and case_of(question).reasons == ["resubmitted"]


def test_flags_hide_at_the_threshold_and_stay_anonymous(
    settings, question_factory, user_factory, moderator
):
    settings.SHUKANG_FLAGS_TO_HIDE = 2
    question = question_factory()
    first, second = user_factory(), user_factory()
    assert services.post_flag(post=question, user=first, reason="spam")
    assert (
        services.post_flag(post=question, user=first, reason="abuse") is False
    )  # second flag, same person
    assert Question.objects.get(pk=question.pk).state == PostState.PUBLISHED
    services.post_flag(
        post=Question.objects.get(pk=question.pk), user=second, reason="misinformation"
    )
    question.refresh_from_db()
    assert question.state == PostState.HIDDEN
    assert case_of(question).kind == Case.Kind.FLAGGED
    # The author hears nothing about who flagged.
    assert not Notification.objects.filter(recipient=question.author).exists()
    services.case_approve(case_id=case_of(question).pk, moderator=moderator)
    assert Question.objects.get(pk=question.pk).state == PostState.PUBLISHED


def test_own_posts_cannot_be_flagged(question_factory):
    question = question_factory()
    with pytest.raises(ValidationError):
        services.post_flag(post=question, user=question.author, reason="spam")


def test_suspended_people_cannot_post_and_lose_their_sockets(
    patient, category, moderator, question_factory
):
    question = question_factory()
    services.user_suspend(
        user=patient, moderator=moderator, until=timezone.now() + timedelta(days=3), reason="Spam"
    )
    patient.refresh_from_db()
    for attempt in (
        lambda: ask(patient, category),
        lambda: forum.reply_create(question=question, author=patient, body="hello again"),
        lambda: services.post_flag(post=question, user=patient, reason="spam"),
    ):
        with pytest.raises(PermissionDenied, match="suspended"):
            attempt()
    assert AuditEntry.objects.get().action == "suspend"


def test_lock_is_logged(question_factory, moderator, patient):
    question = question_factory()
    forum.question_lock(question=question, moderator=moderator)
    assert (
        Question.objects.get(pk=question.pk).is_locked and AuditEntry.objects.get().action == "lock"
    )
    with pytest.raises(PermissionDenied):
        forum.question_lock(question=question, moderator=patient)


def test_the_audit_log_cannot_be_changed(question_factory, moderator):
    forum.question_lock(question=question_factory(), moderator=moderator)
    entry = AuditEntry.objects.get()
    entry.reason = "rewritten"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()


@pytest.mark.postgres
def test_the_database_refuses_to_change_the_audit_log(question_factory, moderator):
    from django.db import DatabaseError, transaction

    forum.question_lock(question=question_factory(), moderator=moderator)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all()._raw_delete(AuditEntry.objects.db)


def test_rate_limits_per_account(settings, patient, category):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"question": (2, 3600)}
    ask(patient, category, body="What helps with fatigue after each chemotherapy cycle?")
    ask(patient, category, body="What helps with nausea after each chemotherapy cycle?")
    with pytest.raises(RateLimited):
        ask(patient, category, body="What helps with numbness after each chemotherapy cycle?")
    assert Question.objects.count() == 2


def test_applications_appear_in_the_queue_and_are_decided_there(user_factory, moderator):
    from accounts.models import PhysicianProfile
    from accounts.services import physician_apply
    from forum.models import Category

    applicant = user_factory()
    profile = physician_apply(
        user=applicant,
        title="attending",
        hospital="H",
        department="D",
        licence_number="LIC-9",
        specialties=list(Category.objects.all()[:1]),
    )
    case = case_of(profile)
    assert case.kind == Case.Kind.APPLICATION
    services.case_approve(case_id=case.pk, moderator=moderator)
    assert PhysicianProfile.objects.get(pk=profile.pk).is_verified
    assert Notification.objects.filter(recipient=applicant, verb=Verb.APPLICATION_DECIDED).exists()
    assert AuditEntry.objects.get().action == "verify_physician"


def test_blocked_term_add_needs_a_moderator(patient):
    with pytest.raises(PermissionDenied):
        services.blocked_term_add(term="spam", moderator=patient)
    assert not BlockedTerm.objects.exists()
