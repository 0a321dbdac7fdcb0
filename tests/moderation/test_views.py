import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.models import User
from forum import services as forum
from forum.models import PostState, Question
from moderation import services
from moderation.models import AuditEntry, Case, Flag

pytestmark = pytest.mark.django_db

PHONE_BODY = "Please call me on 13812345678 to discuss my mother's chemotherapy plan."
ASK = {"title": "A question about my mother's plan", "asker": "family", "tags": ""}


def held_question(author, category):
    return forum.question_create(
        author=author, title="A question about my plan", body=PHONE_BODY, category=category
    )


def test_patients_get_403_on_moderation_pages(client, patient):
    client.force_login(patient)
    for name in ["moderation:queue", "moderation:log", "moderation:words"]:
        assert client.get(reverse(name)).status_code == 403


def test_ask_form_warns_about_personal_data_before_posting(client, patient, category):
    client.force_login(patient)
    response = client.post(
        reverse("forum:question-ask"), ASK | {"body": PHONE_BODY, "category": category.pk}
    )
    content = response.content.decode()
    assert response.status_code == 200 and not Question.objects.exists()
    assert "Personal data found" in content and "“13812345678” looks like a phone number" in content
    response = client.post(
        reverse("forum:question-ask"),
        ASK | {"body": PHONE_BODY, "category": category.pk, "confirm_personal_data": "on"},
        follow=True,
    )
    question = Question.objects.get()
    assert question.state == PostState.PENDING
    page = response.content.decode()
    assert "waiting for a moderator" in page and "phone number" in page


def test_emergency_words_show_the_guidance_before_posting(client, patient, category):
    client.force_login(patient)
    body = "My father started vomiting blood an hour ago after chemotherapy, what should we do?"
    response = client.post(
        reverse("forum:question-ask"), ASK | {"body": body, "category": category.pk}
    )
    assert "Do you need help right now?" in response.content.decode()
    assert not Question.objects.exists()
    client.post(
        reverse("forum:question-ask"),
        ASK | {"body": body, "category": category.pk, "not_emergency": "on"},
    )
    assert Question.objects.count() == 1


def test_pending_posts_are_seen_only_by_author_and_moderators(
    client, patient, category, user_factory, moderator
):
    question = held_question(patient, category)
    assert client.get(question.get_absolute_url()).status_code == 404
    client.force_login(user_factory())
    assert client.get(question.get_absolute_url()).status_code == 404
    assert question.title not in client.get(reverse("forum:question-list")).content.decode()
    client.force_login(patient)
    assert "waiting for a moderator" in client.get(question.get_absolute_url()).content.decode()
    client.force_login(moderator)
    assert client.get(question.get_absolute_url()).status_code == 200


def test_queue_shows_context_and_highlights_personal_data(client, patient, category, moderator):
    held_question(patient, category)
    client.force_login(moderator)
    content = client.get(reverse("moderation:queue")).content.decode()
    assert ">13812345678</mark>" in content
    assert patient.email in content and "1 open item" in content


def test_moderator_redacts_and_approves_through_the_queue(client, patient, category, moderator):
    question = held_question(patient, category)
    case = Case.objects.get()
    client.force_login(moderator)
    response = client.post(
        reverse("moderation:decide", args=[case.pk]),
        {
            "action": "redact",
            "body": "Please call me on [removed].",
            "version": question.updated_at.isoformat(),
        },
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.state == PostState.PUBLISHED and "13812345678" not in question.body
    log = client.get(reverse("moderation:log")).content.decode()
    assert "redact_approve" in log and moderator.name in log


def test_stale_or_repeated_decisions_change_nothing(client, patient, category, moderator):
    question = held_question(patient, category)
    case = Case.objects.get()
    client.force_login(moderator)
    stale = "2000-01-01T00:00:00+00:00"
    response = client.post(
        reverse("moderation:decide", args=[case.pk]),
        {"action": "approve", "version": stale},
        follow=True,
    )
    assert "changed after you opened it" in response.content.decode()
    assert Question.objects.get(pk=question.pk).state == PostState.PENDING
    client.post(reverse("moderation:decide", args=[case.pk]), {"action": "approve"})
    response = client.post(
        reverse("moderation:decide", args=[case.pk]),
        {"action": "reject", "reason": "x"},
        follow=True,
    )
    assert "already handled" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_reject_needs_a_reason(client, patient, category, moderator):
    held_question(patient, category)
    client.force_login(moderator)
    response = client.post(
        reverse("moderation:decide", args=[Case.objects.get().pk]),
        {"action": "reject"},
        follow=True,
    )
    assert "Give the author a reason" in response.content.decode()
    assert Case.objects.get().is_open


def test_flagging_through_the_page(client, question_factory, user_factory):
    question = question_factory()
    client.force_login(user_factory())
    response = client.post(
        reverse("moderation:flag", args=["question", question.pk]),
        {"reason": "misinformation"},
        follow=True,
    )
    assert "the author is not told who flagged it" in response.content.decode()
    response = client.post(
        reverse("moderation:flag", args=["question", question.pk]), {"reason": "spam"}, follow=True
    )
    assert "already flagged" in response.content.decode()
    assert Flag.objects.count() == 1


def test_forged_flag_kinds_and_missing_posts(client, patient):
    client.force_login(patient)
    assert (
        client.post(reverse("moderation:flag", args=["user", 1]), {"reason": "spam"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("moderation:flag", args=["answer", 9999]), {"reason": "spam"}
        ).status_code
        == 404
    )


def test_suspension_through_the_form(client, patient, moderator):
    client.force_login(moderator)
    response = client.post(
        reverse("moderation:suspend", args=[patient.pk]),
        {"until": "2000-01-01T10:00", "reason": "spam"},
    )
    assert "Choose a date in the future" in response.content.decode()
    client.post(
        reverse("moderation:suspend", args=[patient.pk]),
        {"until": "2099-01-01T10:00", "reason": "spam"},
    )
    assert User.objects.get(pk=patient.pk).is_suspended


def test_rate_limited_requests_get_the_friendly_429(client, settings, patient, category):
    settings.SHUKANG_RATE_LIMITS = settings.SHUKANG_RATE_LIMITS | {"question": (1, 3600)}
    client.force_login(patient)
    data = ASK | {
        "body": "I have a question about fatigue after each chemotherapy cycle.",
        "category": category.pk,
    }
    client.post(reverse("forum:question-ask"), data)
    # A different question: the same one again would be taken for a double click.
    data["body"] = "I have a question about nausea after each chemotherapy cycle."
    response = client.post(reverse("forum:question-ask"), data)
    assert response.status_code == 429
    assert "Please wait a little and try again" in response.content.decode()
    assert Question.objects.count() == 1


@pytest.mark.parametrize("n_cases", [1, 15])
def test_queue_query_count_is_flat(
    client, user_factory, category, moderator, n_cases, django_assert_num_queries
):
    for _ in range(n_cases):
        held_question(user_factory(), category)
    client.force_login(moderator)
    client.get("/")
    # user with the bell, cases, their questions, flags, author history x3, open count
    with django_assert_num_queries(8):
        assert client.get(reverse("moderation:queue")).status_code == 200


def test_export_returns_my_data_and_nobody_elses(client, question_factory, patient, user_factory):
    mine = question_factory(author=patient, is_anonymous=True)
    theirs = question_factory(author=user_factory(name="Someone Else"))
    client.force_login(patient)
    response = client.get(reverse("accounts:export"))
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["email"] == patient.email
    assert [q["id"] for q in data["questions"]] == [mine.pk] and data["questions"][0][
        "anonymous"
    ] is True
    assert (
        theirs.title not in response.content.decode()
        and "Someone Else" not in response.content.decode()
    )


def test_delete_needs_the_password_then_leaves_posts_as_former_member(
    client, question_factory, patient
):
    question = question_factory(author=patient)
    client.force_login(patient)
    response = client.post(reverse("accounts:delete"), {"password": "wrong", "confirm": "on"})
    assert "The password is not correct" in response.content.decode()
    assert User.objects.get(pk=patient.pk).is_active
    client.post(
        reverse("accounts:delete"), {"password": "a-sturdy-test-passphrase", "confirm": "on"}
    )
    gone = User.objects.get(pk=patient.pk)
    assert not gone.is_active and gone.name == "" and patient.email != gone.email
    assert "_auth_user_id" not in client.session
    page = client.get(question.get_absolute_url()).content.decode()
    assert "Former member" in page and patient.name not in page
    assert ContentType.objects.exists()


def _redacted_question(patient, category, moderator):
    question = held_question(patient, category)
    services.case_redact_and_approve(
        case_id=Case.objects.get().pk,
        moderator=moderator,
        title="A question about my treatment plan",
        body="Please call me on [removed].",
    )
    question.refresh_from_db()
    return question


def test_a_redacted_post_says_a_moderator_edited_it(client, patient, category, moderator):
    question = _redacted_question(patient, category, moderator)
    for language, marked in (("en", "edited by a moderator"), ("zh-hans", "已由管理员编辑")):
        content = client.get(question.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
        content = content.content.decode()
        assert marked in content
        assert "· edited</p>" not in content and "· 已编辑</p>" not in content


def test_only_moderators_see_what_a_redaction_replaced(
    client, patient, category, moderator, user_factory
):
    question = _redacted_question(patient, category, moderator)
    for reader in (None, patient, user_factory()):
        if reader is not None:
            client.force_login(reader)
        content = client.get(question.get_absolute_url()).content.decode()
        assert "13812345678" not in content and "earlier version" not in content
    client.force_login(moderator)
    content = client.get(question.get_absolute_url()).content.decode()
    assert "1 earlier version (moderators only)" in content
    assert "13812345678" in content and "A question about my plan" in content
    assert f"Replaced by {moderator.name}" in content


def test_the_queue_lets_a_moderator_fix_a_questions_title(client, patient, category, moderator):
    question = held_question(patient, category)
    client.force_login(moderator)
    queue = client.get(reverse("moderation:queue")).content.decode()
    assert 'name="title" value="A question about my plan"' in queue
    client.post(
        reverse("moderation:decide", args=[Case.objects.get().pk]),
        {
            "action": "redact",
            "title": "A question about my treatment plan",
            "body": "Please call me on [removed].",
            "version": question.updated_at.isoformat(),
        },
    )
    question.refresh_from_db()
    assert question.title == "A question about my treatment plan" and question.redacted_at
